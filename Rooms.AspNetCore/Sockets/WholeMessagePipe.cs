using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// A connection's output that keeps each message SignalR writes whole in one buffer segment. SignalR hands a
/// pre-serialized message to <see cref="PipeWriter.WriteAsync"/>, and a pipe copies it into segments of 4 KB; the
/// WebSocket transport then sends each segment as a frame of its own, and each frame is one write to the socket:
/// a 20 KB event cost five or six system calls for each member of a room. Here a message larger than what the
/// pipe's current segment holds asks for one segment of its whole size (the pipe rents one that large), so it goes
/// out as one frame and one write. Writes of every other kind pass through unchanged.
/// </summary>
/// <remarks>
/// It can also hold a message back from the socket until the next one (<see cref="Hold"/>): a message written
/// just before the answer to the socket's request leaves with that answer, in the same frame and write.
/// </remarks>
internal sealed class WholeMessagePipe : IDuplexPipe
{
    [ThreadStatic]
    private static bool t_holding;

    [ThreadStatic]
    private static List<Writer>? t_held;

    private readonly IDuplexPipe _inner;

    private WholeMessagePipe(IDuplexPipe inner, HubConnectionContext connection)
    {
        _inner = inner;
        Output = new Writer(inner.Output, connection);
    }

    public PipeReader Input => _inner.Input;

    public PipeWriter Output { get; }

    /// <summary>
    /// Puts the pipe in front of the connection's transport. Called as the connection starts, before any event is
    /// written to it: SignalR reads the transport on each write, under its write lock, and the two writers write
    /// into the same pipe, so a write already under way (a ping) is not disturbed.
    /// </summary>
    public static void Install(HubConnectionContext connection)
    {
        if (connection.Features.Get<IConnectionTransportFeature>() is { Transport: { } transport and not WholeMessagePipe } feature)
        {
            feature.Transport = new WholeMessagePipe(transport, connection);
        }
    }

    /// <summary>
    /// Runs <paramref name="writes"/> with the messages it writes on this thread left in their pipes unflushed, then
    /// <paramref name="next"/>, which writes the next message (SignalR flushes that one, and so the held ones before it),
    /// then flushes whatever is still held: <paramref name="next"/> wrote nothing, or its write waited for another.
    /// A message <paramref name="writes"/> could not write at once (SignalR's write lock was taken) is written and
    /// flushed as usual when its turn comes, on another thread.
    /// </summary>
    public static void Hold(Action writes, Action next)
    {
        List<Writer>? held;
        t_holding = true;
        try
        {
            writes();
        }
        finally
        {
            t_holding = false;
            held = t_held;
            t_held = null;
        }

        try
        {
            next();
        }
        finally
        {
            if (held is not null)
            {
                foreach (var writer in held)
                {
                    writer.FlushIfHeld();
                }
            }
        }
    }

    private sealed class Writer(PipeWriter inner, HubConnectionContext connection) : PipeWriter
    {
        private int _held;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            // GetSpan with the whole size gives the current segment when it has room, else one new segment that large.
            source.Span.CopyTo(inner.GetSpan(source.Length));
            inner.Advance(source.Length);
            if (t_holding)
            {
                Volatile.Write(ref _held, 1);
                (t_held ??= []).Add(this);
                return default;
            }

            return FlushAsync(cancellationToken);
        }

        /// <summary>Flushes a held message that no write has flushed since, with a ping (under SignalR's write lock; clients ignore pings).</summary>
        public void FlushIfHeld()
        {
            if (Volatile.Read(ref _held) == 1)
            {
                var write = connection.WriteAsync(PingMessage.Instance);
                if (!write.IsCompletedSuccessfully)
                {
                    _ = ObserveAsync(write);
                }
            }

            static async Task ObserveAsync(ValueTask write)
            {
                try
                {
                    await write;
                }
                catch (Exception)
                {
                    // The connection is gone: so is what it held.
                }
            }
        }

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Volatile.Write(ref _held, 0);
            return inner.FlushAsync(cancellationToken);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}
