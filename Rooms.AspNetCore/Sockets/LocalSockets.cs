using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Telemetry;

using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// The sockets this front end holds, by socket id; their rooms are kept by <see cref="FrontEndMembership"/>,
/// which holds a socket from the moment it is added here until it ends. A plain socket is its connection; a
/// resumable one outlives a dropped connection for <see cref="RoomsOptions.ResumeWindow"/> and may move to
/// a new connection (<see cref="ResumableSocket"/>). Writes to one connection keep their order (SignalR
/// serializes them); a client that cannot keep up is disconnected instead of holding up the others or growing
/// without bound (pending writes counted in messages and in bytes).
/// </summary>
internal sealed partial class LocalSockets(FrontEndMembership membership, IOptions<SocketLimitsOptions> limits, IOptions<RoomsOptions> rooms, TimeProvider time, RoomsMetrics metrics, ILogger<LocalSockets> logger) : ISocketOutbox, ISocketHandOvers
{
    /// <summary>How long a socket waits, moving, for the front end it moves to before it is held here again.</summary>
    internal static readonly TimeSpan MoveBound = TimeSpan.FromSeconds(15);

    /// <summary>How long a completed hand-over is remembered, so that a retry of its last step gets the same answer.</summary>
    private static readonly TimeSpan HandedOverKept = TimeSpan.FromSeconds(60);

    /// <summary>How long after a socket moved away a batch for its rooms that reaches this front end late still follows it.</summary>
    private static readonly TimeSpan FollowMovedFor = TimeSpan.FromSeconds(5);

    /// <summary>The key under which a connection's <c>Items</c> hold the socket it serves.</summary>
    private static readonly object SocketKey = new();

    private readonly ConcurrentDictionary<string, LocalSocket> _sockets = new(StringComparer.Ordinal);
    private int _resumable;
    private readonly ConcurrentDictionary<string, (string To, SocketHandOver HandOver, long At)> _handedOver = new(StringComparer.Ordinal);

    /// <summary>Sockets handed over less than <see cref="FollowMovedFor"/> ago whose late batches follow them (<see cref="MovedAwayIn"/>): every delivery reads it, so it holds only those.</summary>
    private readonly ConcurrentDictionary<string, (string To, string[] Rooms, long At)> _following = new(StringComparer.Ordinal);

    /// <summary>Told the id of every resumable socket that ended because its window passed (or it overflowed while held).</summary>
    public Action<string>? HoldExpired { get; set; }

    /// <summary>This front end's id, carried in the resume tokens it hands out (<see cref="ResumeToken"/>); none in tests without a cluster.</summary>
    public string? FrontEndId { get; set; }

    internal int MaxPendingMessages { get; } = limits.Value.MaxPendingMessagesPerSocket;

    internal long MaxPendingBytes { get; } = limits.Value.MaxPendingBytesPerSocket;

    internal RoomsOptions Resume { get; } = rooms.Value;

    internal TimeProvider Time => time;

    internal ILogger Logger => logger;

    internal RoomsMetrics Metrics => metrics;

    public int Count => _sockets.Count;

    /// <summary>The id of the socket a connection serves: its own id, unless it resumed another socket.</summary>
    public static string SocketIdOf(HubCallerContext caller)
        => caller.Items.TryGetValue(SocketKey, out var socket) && socket is LocalSocket local ? local.Id : caller.ConnectionId;

    /// <summary>A new socket, its id the connection's. A resumable one buffers events until <see cref="Attach"/>.</summary>
    public LocalSocket Add(HubConnectionContext connection, bool resumable, int version = 1)
    {
        LocalSocket socket = resumable ? new ResumableSocket(connection, this, version) : new PlainSocket(connection, this);
        connection.Items[SocketKey] = socket;
        membership.AddSocket(socket.Id);
        _sockets[socket.Id] = socket;
        if (resumable)
        {
            Interlocked.Increment(ref _resumable);
        }

        return socket;
    }

    public bool IsKeptInCluster(string socketId) => _sockets.TryGetValue(socketId, out var socket) && socket is ResumableSocket { KeptInCluster: true };

    public bool HoldsResumable => ResumableCount > 0;

    /// <summary>Resumable sockets held, moving or arriving here: what a draining front end waits to see moved away.</summary>
    public int ResumableCount => Volatile.Read(ref _resumable);

    /// <summary>The resumable socket of that id, if this front end holds it (a look only).</summary>
    public ResumableSocket? FindResumable(string socketId) => _sockets.TryGetValue(socketId, out var socket) ? socket as ResumableSocket : null;

    /// <summary>Once a new resumable socket is registered: <c>rooms.attached</c> on its connection, then what was buffered.</summary>
    public void Attach(HubConnectionContext connection)
    {
        if (connection.Items.TryGetValue(SocketKey, out var socket) && socket is ResumableSocket resumable)
        {
            resumable.Attach(connection);
        }
    }

    /// <summary>
    /// Moves the socket named by <paramref name="token"/> to <paramref name="connection"/> when this front end
    /// holds it and the token is the one it handed out last; false otherwise (the caller makes a fresh socket).
    /// </summary>
    public bool TryResume(HubConnectionContext connection, string token, long seq)
    {
        if (!ResumeToken.TryParse(token, out var socketId, out var secret)
            || !_sockets.TryGetValue(socketId, out var socket)
            || socket is not ResumableSocket resumable
            || !resumable.TryTakeOver(connection, secret, seq))
        {
            return false;
        }

        connection.Items[SocketKey] = resumable;
        return true;
    }

    /// <summary>
    /// The connection is gone. Returns the id of the socket that ended with it (to unregister now), or null when
    /// its socket lives on: held for the client to resume (it ends once the window passes or its buffer
    /// overflows), or already moved to a newer connection.
    /// </summary>
    public string? Disconnected(HubConnectionContext connection)
    {
        if (!connection.Items.TryGetValue(SocketKey, out var found) || found is not LocalSocket socket)
        {
            return connection.ConnectionId; // it failed before it became a socket here
        }

        if (socket is ResumableSocket resumable && resumable.Detach(connection) is var outcome && outcome != DetachOutcome.Ended)
        {
            if (outcome == DetachOutcome.Held)
            {
                LogHeld(socket.Id, Resume.ResumeWindow);
            }

            return null;
        }

        Ended(socket);
        return socket.Id;
    }

    /// <summary>The client ends its socket now: a resumable one is not held when this connection goes.</summary>
    public static void Close(HubCallerContext caller)
    {
        if (caller.Items.TryGetValue(SocketKey, out var socket) && socket is ResumableSocket resumable)
        {
            resumable.Close(caller.ConnectionId);
        }

        caller.Abort();
    }

    /// <summary>
    /// The client of the socket that <paramref name="connection"/> serves (a connection this front end made to its own
    /// hub) leaves for good: a resumable socket is not held when the connection goes.
    /// </summary>
    public static void Leaving(Microsoft.AspNetCore.Connections.ConnectionContext connection)
    {
        if (connection.Items.TryGetValue(SocketKey, out var socket) && socket is ResumableSocket resumable)
        {
            resumable.Close(connection.ConnectionId);
        }
    }

    /// <summary>The client of a resumable socket has processed every event up to <paramref name="seq"/>.</summary>
    public static void Ack(HubCallerContext caller, long seq)
    {
        if (caller.Items.TryGetValue(SocketKey, out var socket) && socket is ResumableSocket resumable)
        {
            resumable.Ack(seq);
        }
    }

    public string[] Ids() => [.. _sockets.Keys];

    /// <summary>Queues the event for the socket; false when it is not held here or was dropped as too slow.</summary>
    public bool Send(string socketId, OutgoingEvent message)
        => _sockets.TryGetValue(socketId, out var socket) && socket.Send(message);

    /// <summary>Queues the event for every socket but <paramref name="except"/>; returns for how many.</summary>
    public int SendToAll(OutgoingEvent message, string[]? except)
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

    /// <summary>Events queued on this front end's sockets and not yet written (or, resumable ones, acknowledged).</summary>
    public long PendingMessages()
    {
        long pending = 0;
        foreach (var socket in _sockets.Values)
        {
            pending += socket.Pending;
        }

        return pending;
    }

    /// <summary>A held socket's window passed without a resume: it ends (called by the socket).</summary>
    internal void Expired(ResumableSocket socket)
    {
        LogExpired(socket.Id);
        Ended(socket);
        HoldExpired?.Invoke(socket.Id);
    }

    /// <summary>
    /// This front end is stopping: every resumable socket with a connection is told so (<c>rooms.move</c>, then a
    /// close), so that its client resumes it on another front end now. Waits, at most <paramref name="bound"/>, for
    /// those connections to end (the clients close them), so that nothing aborts them before the message is out.
    /// Returns how many were asked.
    /// </summary>
    public int AskToMove(TimeSpan bound)
    {
        var asked = new List<Task>();
        foreach (var socket in _sockets.Values)
        {
            if (socket is ResumableSocket resumable && resumable.AskToMove() is { } connection)
            {
                asked.Add(Task.Delay(Timeout.Infinite, connection.ConnectionAborted).ContinueWith(_ => { }, TaskScheduler.Default));
            }
        }

        Task.WaitAll([Task.WhenAll(asked)], bound);
        return asked.Count;
    }


    public Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd)
    {
        var rooms = _sockets.TryGetValue(socketId, out var socket) && socket is ResumableSocket resumable && resumable.BeginMove(secret, seq, toFrontEnd, MoveBound)
            ? membership.RoomsOf(socketId)
            : null;
        if (rooms is not null)
        {
            LogMoving(socketId, toFrontEnd);
        }

        return Task.FromResult(rooms);
    }

    public Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd)
    {
        var now = time.GetTimestamp();
        foreach (var (id, done) in _handedOver)
        {
            if (time.GetElapsedTime(done.At, now) > HandedOverKept)
            {
                _handedOver.TryRemove(id, out _);
            }
        }

        if (_handedOver.TryGetValue(socketId, out var earlier) && earlier.To == toFrontEnd)
        {
            return Task.FromResult<SocketHandOver?>(earlier.HandOver);
        }

        if (!_sockets.TryGetValue(socketId, out var socket) || socket is not ResumableSocket resumable || resumable.EndMove(toFrontEnd) is not { } moved)
        {
            return Task.FromResult<SocketHandOver?>(null);
        }

        // Its rooms as they are now (a change that reached this front end meanwhile included), taken with the socket.
        if (_sockets.TryRemove(new KeyValuePair<string, LocalSocket>(socketId, socket)))
        {
            Interlocked.Decrement(ref _resumable);
        }

        var (rooms, presence) = membership.TakeSocket(socketId) ?? ([socketId], []);
        var handOver = new SocketHandOver(rooms, moved.LastSeq, moved.Events, Presence: presence);
        _handedOver[socketId] = (toFrontEnd, handOver, now);

        // A client of version 2 skips an event it had by its broadcast id, so a late batch may follow it (MovedAwayIn);
        // a socket.io client cannot, and an older client would see it twice.
        if (resumable.Version >= 2 && resumable.KeptInCluster)
        {
            _following[socketId] = (toFrontEnd, rooms, now);
        }
        LogMoved(socketId, toFrontEnd, moved.Events.Length);
        return Task.FromResult<SocketHandOver?>(handOver);
    }

    public IReadOnlyList<(string SocketId, string ToFrontEnd)> MovedAwayIn(DeliveryBatch batch)
    {
        if (_following.IsEmpty)
        {
            return [];
        }

        List<(string, string)>? moved = null;
        var now = time.GetTimestamp();
        foreach (var (id, gone) in _following)
        {
            if (time.GetElapsedTime(gone.At, now) > FollowMovedFor)
            {
                _following.TryRemove(id, out _);
            }
            else if ((batch.Except is null || Array.IndexOf(batch.Except, id) < 0)
                && (batch.Rooms is null || batch.Rooms.Any(room => Array.IndexOf(gone.Rooms, room) >= 0)))
            {
                (moved ??= []).Add((id, gone.To));
            }
        }

        return moved is null ? [] : moved;
    }

    public Task AbortHandOver(string socketId, string toFrontEnd)
    {
        if (_sockets.TryGetValue(socketId, out var socket) && socket is ResumableSocket resumable)
        {
            resumable.AbortMove(toFrontEnd);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// A socket moving here from another front end, served by <paramref name="connection"/>: held here (in its
    /// own-id room) and kept for <see cref="ResumableSocket.CompleteAdoption"/>; null when this front end holds
    /// a socket of that id already.
    /// </summary>
    public ResumableSocket? Adopt(HubConnectionContext connection, string socketId, int version)
    {
        var socket = ResumableSocket.Adopting(connection, this, socketId, version);
        if (!_sockets.TryAdd(socketId, socket))
        {
            return null;
        }

        Interlocked.Increment(ref _resumable);

        try
        {
            membership.AddSocket(socketId);
        }
        catch (InvalidOperationException)
        {
            _sockets.TryRemove(new KeyValuePair<string, LocalSocket>(socketId, socket));
            Interlocked.Decrement(ref _resumable);
            return null;
        }

        connection.Items[SocketKey] = socket;
        return socket;
    }

    /// <summary>A move here that did not complete: the socket was never this front end's to serve.</summary>
    public void DropAdoption(HubConnectionContext connection, ResumableSocket socket)
    {
        connection.Items.Remove(SocketKey);
        Ended(socket);
    }

    /// <summary>The socket is gone: it has left every room it was in (its own room aside, as on connect).</summary>
    private void Ended(LocalSocket socket)
    {
        if (_sockets.TryRemove(new KeyValuePair<string, LocalSocket>(socket.Id, socket)))
        {
            if (socket is ResumableSocket)
            {
                Interlocked.Decrement(ref _resumable);
            }

            membership.RemoveSocket(socket.Id);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Socket {SocketId} has {Pending} messages ({PendingBytes} bytes) pending (Rooms:Limits:MaxPendingMessagesPerSocket, Rooms:Limits:MaxPendingBytesPerSocket); disconnecting it as too slow.")]
    internal static partial void LogTooSlow(ILogger logger, string socketId, int pending, long pendingBytes);

    [LoggerMessage(2, LogLevel.Debug, "Write to socket {SocketId} failed.")]
    internal static partial void LogWriteFailed(ILogger logger, Exception exception, string socketId);

    [LoggerMessage(5, LogLevel.Warning, "Socket {SocketId} has {Events} events ({Bytes} bytes) unacknowledged (Rooms:ResumeBufferMaxEvents, Rooms:ResumeBufferMaxBytes); closing it as too slow.")]
    internal static partial void LogBufferFull(ILogger logger, string socketId, int events, long bytes);

    [LoggerMessage(9, LogLevel.Information, "Socket.io socket {SocketId} cannot be recovered from offset {Offset}: events up to {TrimmedThrough} left its buffer unacknowledged (Rooms:ResumeWindow, Rooms:ResumeBufferMaxEvents, Rooms:ResumeBufferMaxBytes); it ends, and its client gets a fresh socket.")]
    internal static partial void LogUnrecoverable(ILogger logger, string socketId, long offset, long trimmedThrough);

    [LoggerMessage(6, LogLevel.Debug, "Socket {SocketId} resumed on connection {ConnectionId}; {Replayed} events replayed.")]
    internal static partial void LogResumed(ILogger logger, string socketId, string connectionId, int replayed);

    [LoggerMessage(7, LogLevel.Information, "Socket {SocketId} is moving to front end {FrontEndId}.")]
    private partial void LogMoving(string socketId, string frontEndId);

    [LoggerMessage(8, LogLevel.Information, "Socket {SocketId} moved to front end {FrontEndId}, with {Events} unacknowledged events.")]
    private partial void LogMoved(string socketId, string frontEndId, int events);

    [LoggerMessage(3, LogLevel.Information, "Socket {SocketId} lost its connection; held for {Window} for its client to resume.")]
    private partial void LogHeld(string socketId, TimeSpan window);

    [LoggerMessage(4, LogLevel.Information, "Socket {SocketId} was not resumed in time (or overflowed meanwhile); disconnecting it.")]
    private partial void LogExpired(string socketId);
}
