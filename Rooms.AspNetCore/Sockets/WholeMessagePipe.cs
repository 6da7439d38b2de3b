using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// A connection's output that keeps each message SignalR writes whole in one buffer segment. SignalR hands a
/// pre-serialized message to <see cref="PipeWriter.WriteAsync"/>, and a pipe copies it into segments of 4 KB; the
/// WebSocket transport then sends each segment as a frame of its own, and each frame is one write to the socket:
/// a 20 KB event cost five or six system calls for each member of a room. Here a message larger than what the
/// pipe's current segment holds asks for one segment of its whole size (the pipe rents one that large), so it goes
/// out as one frame and one write. Writes of every other kind pass through unchanged.
/// </summary>
internal sealed class WholeMessagePipe : IDuplexPipe
{
    private readonly IDuplexPipe _inner;

    private WholeMessagePipe(IDuplexPipe inner)
    {
        _inner = inner;
        Output = new Writer(inner.Output);
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
            feature.Transport = new WholeMessagePipe(transport);
        }
    }

    private sealed class Writer(PipeWriter inner) : PipeWriter
    {
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            // GetSpan with the whole size gives the current segment when it has room, else one new segment that large.
            source.Span.CopyTo(inner.GetSpan(source.Length));
            inner.Advance(source.Length);
            return inner.FlushAsync(cancellationToken);
        }

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}
