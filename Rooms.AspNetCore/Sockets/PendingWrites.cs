namespace Orleans.Rooms.Sockets;

/// <summary>
/// The writes a socket has handed its connection that have not completed yet, counted in messages and bytes: what
/// bounds a slow client (<see cref="SocketLimitsOptions.MaxPendingMessagesPerSocket"/>, <see cref="SocketLimitsOptions.MaxPendingBytesPerSocket"/>).
/// </summary>
internal sealed class PendingWrites
{
    private int _messages;
    private long _bytes;

    public int Messages => Volatile.Read(ref _messages);

    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Counts one more write; returns the counts with it.</summary>
    public (int Messages, long Bytes) Add(int bytes) => (Interlocked.Increment(ref _messages), Interlocked.Add(ref _bytes, bytes));

    public void Remove(int bytes)
    {
        Interlocked.Decrement(ref _messages);
        Interlocked.Add(ref _bytes, -bytes);
    }

    /// <summary>Waits for a counted write, then takes it off the count; a write that failed is logged (the connection is going).</summary>
    public async Task CompleteAsync(ValueTask write, int bytes, LocalSockets owner, string socketId)
    {
        try
        {
            await write;
        }
        catch (Exception ex)
        {
            LocalSockets.LogWriteFailed(owner.Logger, ex, socketId);
        }
        finally
        {
            Remove(bytes);
        }
    }
}
