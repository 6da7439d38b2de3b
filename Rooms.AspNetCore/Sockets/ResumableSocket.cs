using System.Text.Json.Serialization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// A socket of a client that asked to be resumable (README, "Resuming after a blip"). Its events go out as
/// <c>rooms.event(seq, eventName, payload)</c> and stay in a bounded buffer until the client acknowledges them.
/// When its connection drops it is held: it stays registered and in its rooms, and keeps buffering, until a
/// new connection presents the token it handed out last (<see cref="TryTakeOver"/>) or the window passes.
/// </summary>
/// <remarks>
/// One lock orders everything that touches the connection: numbering and buffering an event and writing it,
/// a take-over (which writes <c>rooms.attached</c> and the replay before any later event), a detach and the
/// expiry. So an event is written to exactly one connection, after whatever was written before it, and the
/// replay covers exactly what the client has not processed. Writes only start under the lock; none is
/// awaited there, and aborting a connection happens after it is released.
/// </remarks>
internal sealed class ResumableSocket(HubConnectionContext connection, LocalSockets owner) : LocalSocket(connection.ConnectionId)
{
    public const string AttachedMethod = "rooms.attached";

    private readonly object _gate = new();
    private readonly Queue<Buffered> _buffer = new();
    private State _state = State.Pending;
    private HubConnectionContext? _connection = connection;
    private byte[] _secret = [];
    private long _lastSeq;
    private long _bufferedBytes;
    private bool _overflowed;
    private bool _closing;
    private ITimer? _hold;
    private Action? _expired;
    private long _holds;

    private enum State
    {
        /// <summary>Connected, not registered yet: events are numbered and buffered, nothing is written.</summary>
        Pending,
        Attached,
        Held,
        Ended,
    }

    public override int Pending
    {
        get
        {
            lock (_gate)
            {
                return _buffer.Count;
            }
        }
    }

    public override bool Send(OutgoingEvent message)
    {
        HubConnectionContext? abort = null;
        var queued = true;
        lock (_gate)
        {
            if (_state == State.Ended || _overflowed)
            {
                return false;
            }

            var seq = ++_lastSeq;
            var sequenced = message.Sequenced(seq);
            _buffer.Enqueue(new Buffered(seq, sequenced, message.Size));
            _bufferedBytes += message.Size;
            if (_buffer.Count > owner.Resume.ResumeBufferMaxEvents || _bufferedBytes > owner.Resume.ResumeBufferMaxBytes)
            {
                abort = OverflowLocked();
                queued = false;
            }
            else if (_state == State.Attached)
            {
                Write(_connection!, sequenced);
            }
        }

        abort?.Abort();
        return queued;
    }

    /// <summary>A new socket is registered: hands the client its id and token, then whatever was buffered meanwhile.</summary>
    public void Attach(HubConnectionContext connection)
    {
        lock (_gate)
        {
            if (_state == State.Pending && _connection == connection && !_overflowed)
            {
                AttachLocked(connection, resumed: false, afterSeq: 0);
            }
        }
    }

    /// <summary>
    /// Moves the socket to <paramref name="connection"/> when <paramref name="secret"/> is the one it handed out
    /// last: <c>rooms.attached</c>, then the buffered events after <paramref name="seq"/>, then live ones. The
    /// previous connection, if still open (half dead), is aborted.
    /// </summary>
    public bool TryTakeOver(HubConnectionContext connection, byte[] secret, long seq)
    {
        HubConnectionContext? previous;
        int replayed;
        lock (_gate)
        {
            if (_state is not (State.Attached or State.Held) || _overflowed || _closing || !ResumeToken.Matches(_secret, secret))
            {
                return false;
            }

            previous = _connection;
            _hold?.Dispose();
            _hold = null;
            _expired = null;
            _holds++;
            AckLocked(seq);
            replayed = AttachLocked(connection, resumed: true, afterSeq: seq);
        }

        previous?.Abort();
        LocalSockets.LogResumed(owner.Logger, Id, connection.ConnectionId, replayed);
        return true;
    }

    /// <summary>
    /// <paramref name="connection"/> is gone. If it was the socket's connection, the socket is held and
    /// <paramref name="expired"/> runs once the window passes (or the buffer overflows) without a take-over.
    /// </summary>
    public DetachOutcome Detach(HubConnectionContext connection, Action expired)
    {
        lock (_gate)
        {
            if (_connection != connection || _state == State.Ended)
            {
                return DetachOutcome.Superseded;
            }

            _connection = null;
            if (_state == State.Pending || _overflowed || _closing)
            {
                EndLocked();
                return DetachOutcome.Ended;
            }

            _state = State.Held;
            _expired = expired;
            var hold = ++_holds;
            _hold = owner.Time.CreateTimer(_ => Expire(hold), null, owner.Resume.ResumeWindow, Timeout.InfiniteTimeSpan);
            return DetachOutcome.Held;
        }
    }

    /// <summary>The client leaves for good through connection <paramref name="connectionId"/>: when it goes, the socket ends instead of being held.</summary>
    public void Close(string connectionId)
    {
        lock (_gate)
        {
            if (_connection?.ConnectionId == connectionId)
            {
                _closing = true;
            }
        }
    }

    /// <summary>The client processed every event up to <paramref name="seq"/>: they leave the buffer.</summary>
    public void Ack(long seq)
    {
        lock (_gate)
        {
            AckLocked(seq);
        }
    }

    private void Expire(long hold)
    {
        Action? expired;
        lock (_gate)
        {
            if (_state != State.Held || hold != _holds)
            {
                return; // taken over meanwhile
            }

            expired = _expired;
            EndLocked();
        }

        expired?.Invoke();
    }

    private void EndLocked()
    {
        _state = State.Ended;
        _hold?.Dispose();
        _hold = null;
        _expired = null;
        _buffer.Clear();
        _bufferedBytes = 0;
    }

    /// <summary>Too much unacknowledged: the socket ends as a slow client. Returns the connection to abort, if any.</summary>
    private HubConnectionContext? OverflowLocked()
    {
        _overflowed = true;
        LocalSockets.LogBufferFull(owner.Logger, Id, _buffer.Count, _bufferedBytes);
        owner.Metrics.SlowDisconnect();
        _buffer.Clear();
        _bufferedBytes = 0;
        if (_state == State.Held)
        {
            _hold!.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan); // ends it now, through the expiry
            return null;
        }

        return _connection; // its disconnect ends the socket
    }

    private void AckLocked(long seq)
    {
        while (_buffer.TryPeek(out var head) && head.Seq <= seq)
        {
            _buffer.Dequeue();
            _bufferedBytes -= head.Size;
        }
    }

    private int AttachLocked(HubConnectionContext connection, bool resumed, long afterSeq)
    {
        _secret = ResumeToken.NewSecret();
        _connection = connection;
        _state = State.Attached;
        var attached = new Attached(Id, ResumeToken.Format(Id, _secret), resumed, (long)owner.Resume.ResumeWindow.TotalMilliseconds);
        Write(connection, new SerializedHubMessage(new InvocationMessage(AttachedMethod, [attached])));
        var replayed = 0;
        foreach (var buffered in _buffer)
        {
            if (buffered.Seq > afterSeq)
            {
                Write(connection, buffered.Message);
                replayed++;
            }
        }

        return replayed;
    }

    private void Write(HubConnectionContext connection, SerializedHubMessage message)
    {
        // Unbounded here on purpose: every write in flight is also in the buffer, which is bounded.
        var write = connection.WriteAsync(message);
        if (!write.IsCompletedSuccessfully)
        {
            _ = AwaitWrite(write);
        }
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
    }

    private readonly record struct Buffered(long Seq, SerializedHubMessage Message, int Size);

    /// <summary>The argument of <c>rooms.attached</c>. A class, not a record: its token must never end up in a log line.</summary>
    private sealed class Attached(string socketId, string resumeToken, bool resumed, long windowMs)
    {
        [JsonPropertyName("socketId")]
        public string SocketId { get; } = socketId;

        [JsonPropertyName("resumeToken")]
        public string ResumeToken { get; } = resumeToken;

        [JsonPropertyName("resumed")]
        public bool Resumed { get; } = resumed;

        [JsonPropertyName("windowMs")]
        public long WindowMs { get; } = windowMs;
    }
}
