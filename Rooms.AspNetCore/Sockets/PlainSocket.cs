using Microsoft.AspNetCore.SignalR;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// A socket that is its connection (any SignalR client that did not ask to be resumable): events go out as
/// client method <c>eventName</c>, through a bounded count of pending writes; past the bound
/// (<see cref="FrontEndOptions.MaxPendingMessagesPerSocket"/>) the connection is aborted as too slow.
/// </summary>
internal sealed class PlainSocket(HubConnectionContext connection, LocalSockets owner) : LocalSocket(connection.ConnectionId)
{
    private int _pending;
    private int _aborted;

    public override void Send(OutgoingEvent message)
    {
        var pending = Interlocked.Increment(ref _pending);
        if (pending > owner.MaxPendingMessages)
        {
            Interlocked.Decrement(ref _pending);
            if (Interlocked.Exchange(ref _aborted, 1) == 0)
            {
                LocalSockets.LogTooSlow(owner.Logger, Id, pending - 1);
                connection.Abort();
            }

            return;
        }

        var write = connection.WriteAsync(message.Shared);
        if (write.IsCompletedSuccessfully)
        {
            Interlocked.Decrement(ref _pending);
            return;
        }

        _ = AwaitWrite(write);
    }

    private async Task AwaitWrite(ValueTask write)
    {
        try
        {
            await write;
        }
        catch (Exception ex)
        {
            LocalSockets.LogWriteFailed(owner.Logger, ex, Id);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }
}
