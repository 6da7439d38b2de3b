using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// The sockets connected to this front end, each with its record of rooms. This front end holds the
/// connections, so this record is the source of truth from which the cluster's grains are rebuilt; the
/// socket grains tell it of every change (see <c>ISocketGrain</c>). Writes to each socket go through a
/// bounded count of pending messages: a client that cannot keep up is disconnected instead of holding up the
/// others or growing without bound (counted in messages and in payload bytes). Writes to one connection keep their order (SignalR serializes them).
/// </summary>
internal sealed partial class LocalSockets(IOptions<FrontEndOptions> options, IOptions<SocketLimitsOptions> limits, ILogger<LocalSockets> logger)
{
    private readonly ConcurrentDictionary<string, LocalSocket> _sockets = new(StringComparer.Ordinal);
    private readonly int _maxPending = options.Value.MaxPendingMessagesPerSocket;
    private readonly long _maxPendingBytes = limits.Value.MaxPendingBytesPerSocket;

    public int Count => _sockets.Count;

    public void Add(HubConnectionContext connection) => _sockets[connection.ConnectionId] = new LocalSocket(connection, this);

    public void Remove(string connectionId) => _sockets.TryRemove(connectionId, out _);

    public string[] Ids() => [.. _sockets.Keys];

    /// <summary>Applies a committed change to the socket's record; a socket this front end no longer holds is ignored.</summary>
    public void RoomsChanged(string socketId, string[] joined, string[] left)
    {
        if (_sockets.TryGetValue(socketId, out var socket))
        {
            socket.RoomsChanged(joined, left);
        }
    }

    /// <summary>The recorded rooms of the socket, its own-id room included, or null when it is not held here.</summary>
    public string[]? RoomsOf(string socketId) => _sockets.TryGetValue(socketId, out var socket) ? socket.Rooms() : null;

    /// <param name="bytes">The size of the message's payload, counted against <see cref="SocketLimitsOptions.MaxPendingBytesPerSocket"/>.</param>
    public void Send(string connectionId, SerializedHubMessage message, int bytes)
    {
        if (_sockets.TryGetValue(connectionId, out var socket))
        {
            socket.Send(message, bytes);
        }
    }

    public void SendToAll(SerializedHubMessage message, int bytes, string[]? except)
    {
        foreach (var (id, socket) in _sockets)
        {
            if (except is null || Array.IndexOf(except, id) < 0)
            {
                socket.Send(message, bytes);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Socket {SocketId} has {Pending} messages ({PendingBytes} bytes) pending (Rooms:FrontEnd:MaxPendingMessagesPerSocket, Rooms:Limits:MaxPendingBytesPerSocket); disconnecting it as too slow.")]
    private partial void LogTooSlow(string socketId, int pending, long pendingBytes);

    [LoggerMessage(2, LogLevel.Debug, "Write to socket {SocketId} failed.")]
    private partial void LogWriteFailed(Exception exception, string socketId);

    private sealed class LocalSocket(HubConnectionContext connection, LocalSockets owner)
    {
        private readonly HashSet<string> _rooms = new(StringComparer.Ordinal) { connection.ConnectionId };
        private int _pending;
        private long _pendingBytes;
        private int _aborted;

        public void RoomsChanged(string[] joined, string[] left)
        {
            lock (_rooms)
            {
                _rooms.UnionWith(joined);
                _rooms.ExceptWith(left);
            }
        }

        public string[] Rooms()
        {
            lock (_rooms)
            {
                return [.. _rooms];
            }
        }

        public void Send(SerializedHubMessage message, int bytes)
        {
            var pending = Interlocked.Increment(ref _pending);
            var pendingBytes = Interlocked.Add(ref _pendingBytes, bytes);
            if (pending > owner._maxPending || pendingBytes > owner._maxPendingBytes)
            {
                Done(bytes);
                if (Interlocked.Exchange(ref _aborted, 1) == 0)
                {
                    owner.LogTooSlow(connection.ConnectionId, pending - 1, pendingBytes - bytes);
                    connection.Abort();
                }

                return;
            }

            var write = connection.WriteAsync(message);
            if (write.IsCompletedSuccessfully)
            {
                Done(bytes);
                return;
            }

            _ = AwaitWrite(write, bytes);
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
                owner.LogWriteFailed(ex, connection.ConnectionId);
            }
            finally
            {
                Done(bytes);
            }
        }
    }
}
