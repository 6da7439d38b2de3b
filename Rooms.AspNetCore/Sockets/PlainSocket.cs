using Microsoft.AspNetCore.SignalR;

using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// A socket that is its connection (any SignalR client that did not ask to be resumable): events go out as
/// client method <c>eventName</c>, through a bounded count of pending writes; past the bound
/// (<see cref="SocketLimitsOptions.MaxPendingMessagesPerSocket"/> messages or
/// <see cref="SocketLimitsOptions.MaxPendingBytesPerSocket"/> bytes) the connection is aborted as too slow.
/// </summary>
internal sealed class PlainSocket(HubConnectionContext connection, LocalSockets owner) : LocalSocket(connection.ConnectionId)
{
    private readonly PendingWrites _pending = new();
    private int _aborted;

    public override int Pending => _pending.Messages;

    public override bool Send(OutgoingEvent message)
    {
        var bytes = message.Size;
        var (pending, pendingBytes) = _pending.Add(bytes);
        if (pending > owner.MaxPendingMessages || pendingBytes > owner.MaxPendingBytes)
        {
            _pending.Remove(bytes);
            if (Interlocked.Exchange(ref _aborted, 1) == 0)
            {
                LocalSockets.LogTooSlow(owner.Logger, Id, pending - 1, pendingBytes - bytes);
                owner.Metrics.SlowDisconnect();
                connection.Abort();
            }

            return false;
        }

        var write = connection.WriteAsync(message.Shared);
        if (write.IsCompletedSuccessfully)
        {
            _pending.Remove(bytes);
            return true;
        }

        _ = _pending.CompleteAsync(write, bytes, owner, Id);
        return true;
    }
}
