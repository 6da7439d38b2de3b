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
/// A connection that presents it on another front end moves it there (docs/design.md, "Moving a socket"):
/// here it is <see cref="BeginMove"/>, then <see cref="EndMove"/> hands over its unacknowledged events; there
/// it is made by <see cref="Adopting"/> and starts with <see cref="CompleteAdoption"/>.
/// </summary>
/// <remarks>
/// A socket.io client (<see cref="ResumeRequest.AcksByOffset"/>, socket.io's connection-state recovery) never
/// acknowledges: the last event it processed, named when it resumes, is its acknowledgement, and its token (its
/// <c>pid</c>) stays the one it was handed first, since the client tells a recovered socket by that. While it is
/// connected its buffer keeps what was written within the resume window, up to the buffer's bounds, oldest out
/// first (as socket.io keeps packets for <c>maxDisconnectionDuration</c>); a resume from before what left the buffer
/// cannot be served, and ends the socket: the client gets a fresh one, as from socket.io.
/// <para>
/// One lock orders everything that touches the connection: numbering and buffering an event and writing it,
/// a take-over (which writes <c>rooms.attached</c> and the replay before any later event), a detach and the
/// expiry. So an event is written to exactly one connection, after whatever was written before it, and the
/// replay covers exactly what the client has not processed. Writes only start under the lock; none is
/// awaited there, and aborting a connection happens after it is released.
/// </para>
/// </remarks>
internal sealed class ResumableSocket(HubConnectionContext connection, LocalSockets owner, string id, int version) : LocalSocket(id)
{
    public const string AttachedMethod = "rooms.attached";

    /// <summary>Sent when this front end stops: resume now, on another front end (docs/protocol.md, "Resuming").</summary>
    public const string MoveMethod = "rooms.move";

    private readonly object _gate = new();
    private readonly Queue<Buffered> _buffer = new();
    private List<OutgoingEvent>? _adopted;
    private State _state = State.Pending;
    private string? _movingTo;
    private HubConnectionContext? _connection = connection;
    private byte[] _secret = [];
    private byte[]? _nextSecret;

    /// <summary>The front end named in the tokens handed out: this one, but for a socket.io socket, whose <c>pid</c> keeps the first.</summary>
    private string? _tokenFrontEnd;
    private bool _tokenHandedOut;
    private long _lastSeq;
    private long _bufferedBytes;
    private bool _overflowed;
    private bool _closing;
    private ITimer? _hold;
    private long _holds;

    /// <summary>The last event that left the buffer of a socket.io socket unacknowledged (<see cref="TrimLocked"/>): a resume must be from it or later.</summary>
    private long _trimmedThrough;

    private readonly bool _acksByOffset = connection.Features.Get<IResumeRequestFeature>()?.ResumeRequest.AcksByOffset == true;

    /// <summary>A socket.io socket's live writes not yet taken by its connection: its buffer, trimmed, no longer bounds them.</summary>
    private readonly PendingWrites _writing = new();

    public ResumableSocket(HubConnectionContext connection, LocalSockets owner, int version = 1)
        : this(connection, owner, connection.ConnectionId, version)
    {
    }

    /// <summary>
    /// Whether the cluster keeps its record and the events delivered to it (docs/design.md, "Surviving a front end"):
    /// not for a socket.io client, which cannot skip an event it processed already and so cannot resume from that record.
    /// </summary>
    public bool KeptInCluster => !_acksByOffset;

    /// <summary>The version of the resume contract its client speaks (2: events carry their broadcast id).</summary>
    public int Version => version;

    private enum State
    {
        /// <summary>Connected, not registered yet: events are numbered and buffered, nothing is written.</summary>
        Pending,
        Attached,
        Held,

        /// <summary>Moving to another front end (<see cref="BeginMove"/>): buffering, no connection, until it ends or is called off.</summary>
        Moving,

        /// <summary>Arriving from another front end (<see cref="Adopting"/>): events kept unnumbered until <see cref="CompleteAdoption"/>.</summary>
        Adopting,
        Ended,
    }

    /// <summary>A socket that moves here from another front end, on <paramref name="connection"/>: until <see cref="CompleteAdoption"/>, it keeps what it is sent.</summary>
    public static ResumableSocket Adopting(HubConnectionContext connection, LocalSockets owner, string socketId, int version)
        => new(connection, owner, socketId, version) { _state = State.Adopting, _adopted = [] };

    /// <summary>
    /// The SHA-256 hashes of the token this socket hands out next and of the one it handed out last: kept in the
    /// cluster (<see cref="Cluster.SocketJournal"/>) before the next token reaches the client, so that either one
    /// resumes the socket on another front end if this one dies.
    /// </summary>
    public byte[][] NextTokenHashes()
    {
        lock (_gate)
        {
            _nextSecret ??= NextSecretLocked();
            var next = System.Security.Cryptography.SHA256.HashData(_nextSecret);
            return _secret.Length == 0 ? [next] : [next, System.Security.Cryptography.SHA256.HashData(_secret)];
        }
    }

    /// <summary>Whether <paramref name="secret"/> is the one handed out last (a look only: nothing changes).</summary>
    public bool Matches(byte[] secret)
    {
        lock (_gate)
        {
            return _secret.Length > 0 && ResumeToken.Matches(_secret, secret);
        }
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

            if (_state == State.Adopting)
            {
                // Numbered once the old front end has said which numbers it gave (CompleteAdoption).
                _adopted!.Add(message);
                _bufferedBytes += message.Size;
                return _adopted.Count <= owner.Resume.ResumeBufferMaxEvents && _bufferedBytes <= owner.Resume.ResumeBufferMaxBytes
                    || (_overflowed = true) is false;
            }

            var seq = ++_lastSeq;
            var sequenced = message.Sequenced(seq, version >= 2);
            _buffer.Enqueue(new Buffered(seq, sequenced, message, owner.Time.GetTimestamp()));
            _bufferedBytes += message.Size;
            if (_acksByOffset && _state == State.Attached)
            {
                TrimLocked();
                if (_writing.Messages >= owner.MaxPendingMessages || _writing.Bytes + message.Size > owner.MaxPendingBytes)
                {
                    abort = TooSlowLocked();
                    queued = false;
                }
                else
                {
                    WriteCounted(_connection!, sequenced, message.Size);
                }
            }
            else if (_buffer.Count > owner.Resume.ResumeBufferMaxEvents || _bufferedBytes > owner.Resume.ResumeBufferMaxBytes)
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
    /// previous connection, if still open (half dead), is aborted. A socket.io client that resumes from before what
    /// left its buffer ends the socket (<see cref="UnrecoverableLocked"/>): false, and it gets a fresh one.
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

            if (seq < _trimmedThrough)
            {
                previous = UnrecoverableLocked(seq);
                replayed = -1;
            }
            else
            {
                previous = _connection;
                _hold?.Dispose();
                _hold = null;
                _holds++;
                AckLocked(seq);
                replayed = AttachLocked(connection, resumed: true, afterSeq: seq);
            }
        }

        previous?.Abort();
        if (replayed < 0)
        {
            return false;
        }

        LocalSockets.LogResumed(owner.Logger, Id, connection.ConnectionId, replayed);
        return true;
    }

    /// <summary>
    /// <paramref name="connection"/> is gone. If it was the socket's connection, the socket is held, and ended
    /// through <see cref="LocalSockets.Expired"/> once the window passes (or the buffer overflows) without a take-over.
    /// </summary>
    public DetachOutcome Detach(HubConnectionContext connection)
    {
        lock (_gate)
        {
            if (_connection != connection || _state == State.Ended)
            {
                return DetachOutcome.Superseded;
            }

            _connection = null;
            if (_state is State.Pending or State.Adopting || _overflowed || _closing)
            {
                EndLocked();
                return DetachOutcome.Ended;
            }

            if (_acksByOffset)
            {
                TrimLocked(); // before what arrives while it is held, which is bounded as for any client
            }

            HoldLocked();
            return DetachOutcome.Held;
        }
    }

    /// <summary>
    /// The front end stops: <c>rooms.move</c> on the connection, then a close that allows a reconnect, so the
    /// client resumes at once. Returns the connection (null when it has none), whose end the caller awaits: it
    /// must not be aborted before those writes are sent.
    /// </summary>
    public HubConnectionContext? AskToMove()
    {
        HubConnectionContext? connection;
        lock (_gate)
        {
            if (_state != State.Attached || _connection is null)
            {
                return null;
            }

            connection = _connection;
            Write(connection, new SerializedHubMessage(new InvocationMessage(MoveMethod, [new Move("stopping")])));
        }

        _ = CloseAfterWrites(connection);
        return connection;
    }

    private static async Task CloseAfterWrites(HubConnectionContext connection)
    {
        try
        {
            await connection.WriteAsync(new CloseMessage(error: null, allowReconnect: true));
        }
        catch (Exception)
        {
            // Closed already.
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

    /// <summary>
    /// Starts a move to front end <paramref name="toFrontEnd"/> when <paramref name="secret"/> is the one handed out
    /// last (a repeat of the same move is answered the same): the client processed everything up to
    /// <paramref name="seq"/>; the connection, if any, is closed; the socket keeps buffering until
    /// <see cref="EndMove"/> or <see cref="AbortMove"/>, and is held for its window again if neither comes within
    /// <paramref name="bound"/>.
    /// </summary>
    public bool BeginMove(byte[] secret, long seq, string toFrontEnd, TimeSpan bound)
    {
        HubConnectionContext? previous = null;
        HubConnectionContext? unrecoverable = null;
        var moving = true;
        lock (_gate)
        {
            if (_state == State.Moving && _movingTo == toFrontEnd && ResumeToken.Matches(_secret, secret))
            {
                return true;
            }

            if (_state is not (State.Attached or State.Held) || _overflowed || _closing || !ResumeToken.Matches(_secret, secret))
            {
                return false;
            }

            if (seq < _trimmedThrough)
            {
                unrecoverable = UnrecoverableLocked(seq);
                moving = false;
            }
            else
            {
                previous = _connection;
                _connection = null;
                _state = State.Moving;
                _movingTo = toFrontEnd;
                AckLocked(seq);
                var hold = ++_holds;
                _hold?.Dispose();
                _hold = owner.Time.CreateTimer(_ => CallOff(hold), null, bound, Timeout.InfiniteTimeSpan);
            }
        }

        previous?.Abort();
        unrecoverable?.Abort();
        return moving;
    }

    /// <summary>Completes the move begun by <see cref="BeginMove"/>: the socket ends here, and what it had not had acknowledged is handed over (null when no such move is under way).</summary>
    public (long LastSeq, HandedOverEvent[] Events)? EndMove(string toFrontEnd)
    {
        lock (_gate)
        {
            if (_state != State.Moving || _movingTo != toFrontEnd)
            {
                return null;
            }

            var events = _buffer.Select(b => new HandedOverEvent(b.Seq, b.Event.EventName, b.Event.Payload, b.Event.BroadcastId)).ToArray();
            var lastSeq = _lastSeq;
            EndLocked();
            return (lastSeq, events);
        }
    }

    /// <summary>The move begun by <see cref="BeginMove"/> is called off: the socket is held for its window again.</summary>
    public void AbortMove(string toFrontEnd)
    {
        lock (_gate)
        {
            if (_state == State.Moving && _movingTo == toFrontEnd)
            {
                HoldLocked();
            }
        }
    }

    /// <summary>
    /// The old front end handed the socket over: its events after the client's <paramref name="clientSeq"/>
    /// under their numbers, then those sent here meanwhile that it did not have, numbered on from
    /// <paramref name="lastSeq"/>; then <c>rooms.attached</c> (resumed) and all of them on the connection. False
    /// when the socket ended meanwhile (its connection went, or too much arrived).
    /// </summary>
    public bool CompleteAdoption(long lastSeq, IReadOnlyList<HandedOverEvent> handedOver, long clientSeq)
    {
        HubConnectionContext? abort = null;
        int replayed;
        lock (_gate)
        {
            if (_state != State.Adopting || _overflowed || _connection is null)
            {
                return false;
            }

            var seen = new HashSet<Guid>();
            _bufferedBytes = 0;
            // Numbered as the old front end numbered them; or, handed over from what the cluster kept (numbers 0),
            // numbered on from the client's: those it processed already it skips by id.
            _lastSeq = Math.Max(lastSeq, clientSeq);
            foreach (var e in handedOver)
            {
                if (!seen.Add(e.BroadcastId))
                {
                    continue;
                }

                var seq = e.Seq > 0 ? e.Seq : ++_lastSeq;
                var message = new OutgoingEvent(e.EventName, e.Payload, e.BroadcastId);
                _buffer.Enqueue(new Buffered(seq, message.Sequenced(seq, version >= 2), message, owner.Time.GetTimestamp()));
                _bufferedBytes += message.Size;
            }

            foreach (var message in _adopted!)
            {
                if (seen.Add(message.BroadcastId))
                {
                    var seq = ++_lastSeq;
                    _buffer.Enqueue(new Buffered(seq, message.Sequenced(seq, version >= 2), message, owner.Time.GetTimestamp()));
                    _bufferedBytes += message.Size;
                }
            }

            _adopted = null;
            if (_buffer.Count > owner.Resume.ResumeBufferMaxEvents || _bufferedBytes > owner.Resume.ResumeBufferMaxBytes)
            {
                abort = OverflowLocked();
                replayed = 0;
            }
            else
            {
                replayed = AttachLocked(_connection, resumed: true, afterSeq: clientSeq);
            }
        }

        if (abort is not null)
        {
            abort.Abort();
            return false;
        }

        LocalSockets.LogResumed(owner.Logger, Id, _connection!.ConnectionId, replayed);
        return true;
    }

    /// <summary>Called off by its bound: no word from the front end it was moving to.</summary>
    private void CallOff(long hold)
    {
        lock (_gate)
        {
            if (_state == State.Moving && hold == _holds)
            {
                HoldLocked();
            }
        }
    }

    /// <summary>Held for its window, with the expiry it was given when its connection went.</summary>
    private void HoldLocked()
    {
        _state = State.Held;
        _movingTo = null;
        var hold = ++_holds;
        _hold?.Dispose();
        _hold = owner.Time.CreateTimer(_ => Expire(hold), null, owner.Resume.ResumeWindow, Timeout.InfiniteTimeSpan);
    }

    private void Expire(long hold)
    {
        lock (_gate)
        {
            if (_state != State.Held || hold != _holds)
            {
                return; // taken over meanwhile
            }

            EndLocked();
        }

        owner.Expired(this);
    }

    private void EndLocked()
    {
        _state = State.Ended;
        _hold?.Dispose();
        _hold = null;
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

    /// <summary>The secret of the token handed out next: a new one, but for a socket.io client, whose <c>pid</c> stays the same.</summary>
    private byte[] NextSecretLocked() => _acksByOffset && _secret.Length > 0 ? _secret : ResumeToken.NewSecret();

    /// <summary>
    /// A socket.io socket arriving from another front end (<see cref="Adopting"/>) keeps the token its client
    /// presented: the client tells a recovered socket by its unchanged <c>pid</c>.
    /// </summary>
    public void KeepToken(byte[] secret, string? frontEndId)
    {
        lock (_gate)
        {
            if (_acksByOffset && _state == State.Adopting)
            {
                _nextSecret = secret;
                _tokenFrontEnd = frontEndId;
                _tokenHandedOut = true;
            }
        }
    }

    /// <summary>
    /// A socket.io socket's buffer, which its client never acknowledges: what was buffered longer ago than the
    /// resume window leaves it, and the oldest events while it is over its bounds.
    /// </summary>
    private void TrimLocked()
    {
        while (_buffer.TryPeek(out var head)
            && (_buffer.Count > owner.Resume.ResumeBufferMaxEvents || _bufferedBytes > owner.Resume.ResumeBufferMaxBytes || owner.Time.GetElapsedTime(head.At) > owner.Resume.ResumeWindow))
        {
            _buffer.Dequeue();
            _bufferedBytes -= head.Size;
            _trimmedThrough = head.Seq;
        }
    }

    /// <summary>
    /// A socket.io client that does not take its events (<see cref="SocketLimitsOptions.MaxPendingMessagesPerSocket"/>,
    /// <see cref="SocketLimitsOptions.MaxPendingBytesPerSocket"/> pending): cut as too slow, as a plain socket is; its
    /// connection, returned, is aborted, which ends the socket.
    /// </summary>
    private HubConnectionContext? TooSlowLocked()
    {
        _overflowed = true;
        LocalSockets.LogTooSlow(owner.Logger, Id, _writing.Messages, _writing.Bytes);
        owner.Metrics.SlowDisconnect();
        _buffer.Clear();
        _bufferedBytes = 0;
        return _connection;
    }

    /// <summary>
    /// A socket.io client resumes from before what left the buffer: what it missed cannot be given, so the socket
    /// ends (at once when held, else when its connection is aborted: returned) and the client gets a fresh one.
    /// </summary>
    private HubConnectionContext? UnrecoverableLocked(long seq)
    {
        _overflowed = true;
        LocalSockets.LogUnrecoverable(owner.Logger, Id, seq, _trimmedThrough);
        _buffer.Clear();
        _bufferedBytes = 0;
        if (_state == State.Held)
        {
            _hold!.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan); // ends it now, through the expiry
            return null;
        }

        return _connection;
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
        _secret = _nextSecret ?? NextSecretLocked();
        _nextSecret = null;
        _connection = connection;
        _state = State.Attached;
        if (!(_acksByOffset && _tokenHandedOut))
        {
            _tokenFrontEnd = owner.FrontEndId;
            _tokenHandedOut = true;
        }

        var attached = new Attached(Id, ResumeToken.Format(Id, _tokenFrontEnd, _secret), resumed, (long)owner.Resume.ResumeWindow.TotalMilliseconds);
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

    /// <summary>A socket.io socket's live event, counted while its write is pending (the slow-client bound of a plain socket).</summary>
    private void WriteCounted(HubConnectionContext connection, SerializedHubMessage message, int size)
    {
        var write = connection.WriteAsync(message);
        if (!write.IsCompletedSuccessfully)
        {
            _writing.Add(size);
            _ = _writing.CompleteAsync(write, size, owner, Id);
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

    /// <summary>An event in the buffer; <paramref name="At"/>, when it was buffered (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    private readonly record struct Buffered(long Seq, SerializedHubMessage Message, OutgoingEvent Event, long At)
    {
        public int Size => Event.Size;
    }

    /// <summary>The argument of <c>rooms.move</c>.</summary>
    private sealed class Move(string reason)
    {
        [JsonPropertyName("reason")]
        public string Reason { get; } = reason;
    }

    /// <summary>The argument of <c>rooms.attached</c> (on Sails' own wire, the <c>CONNECT</c> answer). A class, not a record: its token must never end up in a log line.</summary>
    internal sealed class Attached(string socketId, string resumeToken, bool resumed, long windowMs)
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
