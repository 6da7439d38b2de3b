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
    private int _pending;
    private long _pendingBytes;
    private int _aborted;

    public override int Pending => Volatile.Read(ref _pending);

    public override bool Send(OutgoingEvent message)
    {
        var bytes = message.Size;
        var pending = Interlocked.Increment(ref _pending);
        var pendingBytes = Interlocked.Add(ref _pendingBytes, bytes);
        if (pending > owner.MaxPendingMessages || pendingBytes > owner.MaxPendingBytes)
        {
            Done(bytes);
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
            Done(bytes);
            return true;
        }

        _ = AwaitWrite(write, bytes);
        return true;
    }

    private void Done(int bytes)
    {
        Interlocked.Decrement(ref _pending);
        Interlocked.Add(ref _pendingBytes, -bytes);
    }

    private async Task AwaitWrite(ValueTask write, int bytes)
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
            Done(bytes);
        }
    }
}
