using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// The sockets connected to this front end, each with its record of rooms. This front end holds the
/// connections, so this record is the source of truth from which the cluster's grains are rebuilt; the
/// socket grains tell it of every change (see <c>ISocketGrain</c>). Writes to each socket go through a
/// bounded count of pending messages: a client that cannot keep up is disconnected instead of holding up the
/// others or growing without bound. Writes to one connection keep their order (SignalR serializes them).
/// </summary>
internal sealed partial class LocalSockets(IOptions<FrontEndOptions> options, ILogger<LocalSockets> logger, RoomsMetrics metrics)
{
    private readonly ConcurrentDictionary<string, LocalSocket> _sockets = new(StringComparer.Ordinal);
    private readonly int _maxPending = options.Value.MaxPendingMessagesPerSocket;
    private readonly RoomsMetrics _metrics = metrics;

    public int Count => _sockets.Count;

    public void Add(HubConnectionContext connection) => _sockets[connection.ConnectionId] = new LocalSocket(connection, this);

    /// <summary>Forgets a socket that disconnected: it has left every room it was in (its own room aside, as on join).</summary>
    public void Remove(string connectionId)
    {
        if (_sockets.TryRemove(connectionId, out var socket))
        {
            var left = socket.Rooms().Where(room => room != connectionId).ToArray();
            _metrics.MembershipsChanged(0, left.Length);
            foreach (var room in left)
            {
                LogLeft(connectionId, room);
            }
        }
    }

    public string[] Ids() => [.. _sockets.Keys];

    /// <summary>Applies a committed change to the socket's record; a socket this front end no longer holds is ignored.</summary>
    public void RoomsChanged(string socketId, string[] joined, string[] left)
    {
        if (_sockets.TryGetValue(socketId, out var socket))
        {
            var (added, removed) = socket.RoomsChanged(joined, left);
            _metrics.MembershipsChanged(added.Count, removed.Count);
            foreach (var room in added)
            {
                LogJoined(socketId, room);
            }

            foreach (var room in removed)
            {
                LogLeft(socketId, room);
            }
        }
    }

    /// <summary>The recorded rooms of the socket, its own-id room included, or null when it is not held here.</summary>
    public string[]? RoomsOf(string socketId) => _sockets.TryGetValue(socketId, out var socket) ? socket.Rooms() : null;

    /// <summary>Queues the message on the connection; false when it is not held here or was dropped as too slow.</summary>
    public bool Send(string connectionId, SerializedHubMessage message)
        => _sockets.TryGetValue(connectionId, out var socket) && socket.Send(message);

    /// <summary>Queues the message on every connection but <paramref name="except"/>; returns on how many.</summary>
    public int SendToAll(SerializedHubMessage message, string[]? except)
    {
        var sent = 0;
        foreach (var (id, socket) in _sockets)
        {
            if ((except is null || Array.IndexOf(except, id) < 0) && socket.Send(message))
            {
                sent++;
            }
        }

        return sent;
    }

    /// <summary>Messages queued on all connections and not yet written.</summary>
    public long PendingMessages()
    {
        long pending = 0;
        foreach (var socket in _sockets.Values)
        {
            pending += socket.Pending;
        }

        return pending;
    }

    [LoggerMessage(1, LogLevel.Warning, "Socket {SocketId} has {Pending} messages pending (Rooms:FrontEnd:MaxPendingMessagesPerSocket); disconnecting it as too slow.")]
    private partial void LogTooSlow(string socketId, int pending);

    [LoggerMessage(2, LogLevel.Debug, "Write to socket {SocketId} failed.")]
    private partial void LogWriteFailed(Exception exception, string socketId);

    [LoggerMessage(3, LogLevel.Debug, "Socket {SocketId} joined room {Room}.")]
    private partial void LogJoined(string socketId, string room);

    [LoggerMessage(4, LogLevel.Debug, "Socket {SocketId} left room {Room}.")]
    private partial void LogLeft(string socketId, string room);

    private sealed class LocalSocket(HubConnectionContext connection, LocalSockets owner)
    {
        private readonly HashSet<string> _rooms = new(StringComparer.Ordinal) { connection.ConnectionId };
        private int _pending;
        private int _aborted;

        public int Pending => Volatile.Read(ref _pending);

        /// <summary>Applies the change; returns the rooms the record really gained and lost (a repeated join or leave changes nothing).</summary>
        public (List<string> Added, List<string> Removed) RoomsChanged(string[] joined, string[] left)
        {
            List<string> added = [], removed = [];
            lock (_rooms)
            {
                foreach (var room in joined)
                {
                    if (_rooms.Add(room))
                    {
                        added.Add(room);
                    }
                }

                foreach (var room in left)
                {
                    if (_rooms.Remove(room))
                    {
                        removed.Add(room);
                    }
                }
            }

            return (added, removed);
        }

        public string[] Rooms()
        {
            lock (_rooms)
            {
                return [.. _rooms];
            }
        }

        public bool Send(SerializedHubMessage message)
        {
            var pending = Interlocked.Increment(ref _pending);
            if (pending > owner._maxPending)
            {
                Interlocked.Decrement(ref _pending);
                if (Interlocked.Exchange(ref _aborted, 1) == 0)
                {
                    owner.LogTooSlow(connection.ConnectionId, pending - 1);
                    owner._metrics.SlowDisconnect();
                    connection.Abort();
                }

                return false;
            }

            var write = connection.WriteAsync(message);
            if (write.IsCompletedSuccessfully)
            {
                Interlocked.Decrement(ref _pending);
                return true;
            }

            _ = AwaitWrite(write);
            return true;
        }

        private async Task AwaitWrite(ValueTask write)
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
                Interlocked.Decrement(ref _pending);
            }
        }
    }
}
