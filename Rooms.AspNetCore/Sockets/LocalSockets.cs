using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// The sockets connected to this front end, each with its record of rooms. This front end holds the
/// connections, so this record is the source of truth from which the cluster's grains are rebuilt; the
/// socket grains tell it of every change made for others, and this front end records its own (see <see cref="SocketRecord"/>). Writes to each socket go through a
/// bounded count of pending messages: a client that cannot keep up is disconnected instead of holding up the
/// others or growing without bound. Writes to one connection keep their order (SignalR serializes them).
/// </summary>
internal sealed partial class LocalSockets(IOptions<FrontEndOptions> options, ILogger<LocalSockets> logger)
{
    private readonly ConcurrentDictionary<string, LocalSocket> _sockets = new(StringComparer.Ordinal);
    private readonly int _maxPending = options.Value.MaxPendingMessagesPerSocket;

    public int Count => _sockets.Count;

    public void Add(HubConnectionContext connection) => _sockets[connection.ConnectionId] = new LocalSocket(connection, this);

    public void Remove(string connectionId) => _sockets.TryRemove(connectionId, out _);

    public string[] Ids() => [.. _sockets.Keys];

    /// <summary>The record of a socket's rooms, or null when this front end does not hold it.</summary>
    public SocketRecord? RecordOf(string socketId) => _sockets.TryGetValue(socketId, out var socket) ? socket.Record : null;

    /// <summary>The recorded rooms of the socket, its own-id room included, or null when it is not held here.</summary>
    public RoomsSnapshot? RoomsOf(string socketId) => RecordOf(socketId)?.Snapshot();

    public void Send(string connectionId, SerializedHubMessage message)
    {
        if (_sockets.TryGetValue(connectionId, out var socket))
        {
            socket.Send(message);
        }
    }

    public void SendToAll(SerializedHubMessage message, string[]? except)
    {
        foreach (var (id, socket) in _sockets)
        {
            if (except is null || Array.IndexOf(except, id) < 0)
            {
                socket.Send(message);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Socket {SocketId} has {Pending} messages pending (Rooms:FrontEnd:MaxPendingMessagesPerSocket); disconnecting it as too slow.")]
    private partial void LogTooSlow(string socketId, int pending);

    [LoggerMessage(2, LogLevel.Debug, "Write to socket {SocketId} failed.")]
    private partial void LogWriteFailed(Exception exception, string socketId);

    private sealed class LocalSocket(HubConnectionContext connection, LocalSockets owner)
    {
        private int _pending;
        private int _aborted;

        public SocketRecord Record { get; } = new(connection.ConnectionId);

        public void Send(SerializedHubMessage message)
        {
            var pending = Interlocked.Increment(ref _pending);
            if (pending > owner._maxPending)
            {
                Interlocked.Decrement(ref _pending);
                if (Interlocked.Exchange(ref _aborted, 1) == 0)
                {
                    owner.LogTooSlow(connection.ConnectionId, pending - 1);
                    connection.Abort();
                }

                return;
            }

            var write = connection.WriteAsync(message);
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
                owner.LogWriteFailed(ex, connection.ConnectionId);
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }
}
