using Orleans.Rooms.Delivery;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// The answer to a socket's request, and the events for that socket that go just before it: a track's
/// <c>presence_state</c> (docs/presence.md). They leave with the answer, in one frame and one write to the socket
/// (<see cref="WholeMessagePipe.Hold"/>), where each would otherwise cost one of its own. The request's code finds
/// its reply in <see cref="Current"/>.
/// </summary>
internal sealed class SocketReply(string socketId, ISocketOutbox outbox) : TaskCompletionSource<SocketResponse>
{
    private static readonly AsyncLocal<SocketReply?> CurrentReply = new();

    private static readonly OutgoingEvent[] Answered = [];

    private OutgoingEvent[]? _before; // Answered once answered

    /// <summary>The reply of the socket request this code runs in, if any.</summary>
    public static SocketReply? Current
    {
        get => CurrentReply.Value;
        set => CurrentReply.Value = value;
    }

    public string SocketId => socketId;

    /// <summary>
    /// Sends the event to the socket, just before the answer when the code runs in a request of that socket not yet
    /// answered, else now.
    /// </summary>
    public static void SendBeforeAnswer(ISocketOutbox outbox, string socketId, OutgoingEvent message)
    {
        if (Current is { } reply && reply.SocketId == socketId)
        {
            var before = Volatile.Read(ref reply._before);
            while (before != Answered)
            {
                var seen = Interlocked.CompareExchange(ref reply._before, [.. before ?? [], message], before);
                if (seen == before)
                {
                    return;
                }

                before = seen;
            }
        }

        outbox.Send(socketId, message);
    }

    /// <summary>Answers: the events held for the answer are written first, and SignalR's write of the answer flushes them.</summary>
    public void Answer(SocketResponse response)
    {
        var before = TakeBefore();
        if (before is null)
        {
            TrySetResult(response);
            return;
        }

        try
        {
            // Completing the task runs SignalR's continuation on this thread, which writes the answer.
            WholeMessagePipe.Hold(() => SendAll(before), () => TrySetResult(response));
        }
        finally
        {
            TrySetResult(response); // a send that threw must not leave the request unanswered
        }
    }

    /// <summary>The request failed (its connection went away): the events go as events do (a resumable socket keeps them).</summary>
    public void Fail(Exception exception)
    {
        try
        {
            if (TakeBefore() is { } before)
            {
                SendAll(before);
            }
        }
        finally
        {
            TrySetException(exception);
        }
    }

    private OutgoingEvent[]? TakeBefore() => Interlocked.Exchange(ref _before, Answered);

    private void SendAll(OutgoingEvent[] messages)
    {
        foreach (var message in messages)
        {
            outbox.Send(socketId, message);
        }
    }
}
