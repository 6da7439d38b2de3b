using System.Security.Cryptography;
using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// What a front-end grain keeps so that its front end's resumable sockets outlive the front end (docs/design.md,
/// "Surviving a front end"): each socket's record (rooms, with the position at which each was joined, and the
/// hashes of its last two resume tokens) and the recent events that concern them, in one numbered sequence, so
/// that whether an event was for a socket is decided by the socket's rooms at that event's position. Events are
/// kept for as long as the front end says a resume may need them, and at most as many bytes as it says.
/// Pure and synchronous: its grain touches it between awaits only.
/// </summary>
internal sealed class KeptSockets(TimeProvider time)
{
    private static readonly TimeSpan DefaultKeepFor = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, Record> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _roomRefs = new(StringComparer.Ordinal);
    private readonly Queue<Entry> _events = new();
    private long _position;
    private long _bytes;
    private long _droppedForBytesAt = long.MinValue;
    private TimeSpan _keepFor = DefaultKeepFor;
    private long _maxBytes = 16 * 1024 * 1024;

    public int Sockets => _records.Count;

    public int Events => _events.Count;

    public long Bytes => _bytes;

    public void Apply(FrontEndJournal journal)
    {
        _keepFor = journal.KeepEventsFor;
        _maxBytes = journal.KeepEventsMaxBytes;
        foreach (var record in journal.Records)
        {
            Apply(record);
        }

        foreach (var batch in journal.Delivered)
        {
            Keep(batch);
        }
    }

    public void Apply(SocketRecord change)
    {
        var position = ++_position;
        if (change.Rooms is null)
        {
            if (_records.Remove(change.SocketId, out var gone))
            {
                foreach (var room in gone.Rooms.Keys)
                {
                    Unref(room);
                }
            }

            return;
        }

        if (!_records.TryGetValue(change.SocketId, out var record))
        {
            _records.Add(change.SocketId, record = new Record());
        }

        var now = time.GetTimestamp();
        record.Left.RemoveAll(left => time.GetElapsedTime(left.At, now) > _keepFor);
        foreach (var room in change.Rooms)
        {
            if (record.Rooms.TryAdd(room, position))
            {
                _roomRefs[room] = _roomRefs.GetValueOrDefault(room) + 1;
            }
        }

        if (record.Rooms.Count > change.Rooms.Length)
        {
            var now_ = new HashSet<string>(change.Rooms, StringComparer.Ordinal);
            foreach (var (room, joined) in record.Rooms.Where(r => !now_.Contains(r.Key)).ToArray())
            {
                record.Rooms.Remove(room);
                record.Left.Add(new Left(room, joined, position, now));
                Unref(room);
            }
        }

        if (change.TokenHashes is { } hashes)
        {
            record.TokenHashes = hashes;
        }

        record.Presence = change.Presence;
    }

    /// <summary>Keeps the batch when it may concern a recorded socket (a blast, or a room one of them is in).</summary>
    public void Keep(DeliveryBatch batch)
    {
        var now = time.GetTimestamp();
        Prune(now);
        if (_records.Count == 0 || (batch.Rooms is { } rooms && !rooms.Any(_roomRefs.ContainsKey)))
        {
            return;
        }

        _events.Enqueue(new Entry(++_position, now, batch));
        _bytes += Size(batch);
        while (_bytes > _maxBytes && _events.TryDequeue(out var dropped))
        {
            _bytes -= Size(dropped.Batch);
            _droppedForBytesAt = dropped.At;
        }
    }

    /// <summary>The socket's rooms, when <paramref name="secret"/> is one of its last two tokens; the move to <paramref name="toFrontEnd"/> begins.</summary>
    public string[]? Begin(string socketId, byte[] secret, string toFrontEnd)
    {
        if (!_records.TryGetValue(socketId, out var record) || record.TokenHashes.Length == 0)
        {
            return null;
        }

        var hash = SHA256.HashData(secret);
        if (!record.TokenHashes.Any(known => CryptographicOperations.FixedTimeEquals(known, hash)))
        {
            return null;
        }

        if (record.MovingTo is { } other && other != toFrontEnd)
        {
            return null; // another front end is taking it over already
        }

        record.MovingTo = toFrontEnd;
        return [.. record.Rooms.Keys];
    }

    public bool IsMoving(string socketId, string toFrontEnd) => _records.TryGetValue(socketId, out var record) && record.MovingTo == toFrontEnd;

    public void Abort(string socketId, string toFrontEnd)
    {
        if (_records.TryGetValue(socketId, out var record) && record.MovingTo == toFrontEnd)
        {
            record.MovingTo = null;
        }
    }

    /// <summary>
    /// Completes a move begun with <see cref="Begin"/>: every kept event that was for the socket, in order,
    /// unnumbered; the socket is forgotten. Null when events within the time a resume may need were dropped for
    /// want of room (the socket may have missed one of them: it cannot be resumed whole).
    /// </summary>
    public SocketHandOver? End(string socketId, string toFrontEnd)
    {
        if (!_records.TryGetValue(socketId, out var record) || record.MovingTo != toFrontEnd)
        {
            return null;
        }

        var now = time.GetTimestamp();
        Prune(now);
        Apply(new SocketRecord(socketId, null, null));
        if (_droppedForBytesAt != long.MinValue && time.GetElapsedTime(_droppedForBytesAt, now) < _keepFor)
        {
            return null;
        }

        var events = _events.Where(e => IsFor(socketId, record, e)).Select(e => new HandedOverEvent(0, e.Batch.EventName, e.Batch.Payload, e.Batch.Id)).ToArray();
        return new SocketHandOver([.. record.Rooms.Keys], 0, events, FromRecord: true, record.Presence);
    }

    public void Clear()
    {
        _records.Clear();
        _roomRefs.Clear();
        _events.Clear();
        _bytes = 0;
        _droppedForBytesAt = long.MinValue;
    }

    private static bool IsFor(string socketId, Record record, Entry entry)
    {
        if (entry.Batch.Except is { } except && Array.IndexOf(except, socketId) >= 0)
        {
            return false;
        }

        if (entry.Batch.Rooms is not { } rooms)
        {
            return record.Rooms.TryGetValue(socketId, out var since) ? since < entry.Position : record.Rooms.Count > 0;
        }

        foreach (var room in rooms)
        {
            if (record.Rooms.TryGetValue(room, out var joined) && joined < entry.Position)
            {
                return true;
            }

            foreach (var left in record.Left)
            {
                if (left.Room == room && left.Joined < entry.Position && entry.Position < left.LeftAt)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Drops the events older than a resume may need (rooms left are pruned per socket, as its record changes).</summary>
    private void Prune(long now)
    {
        while (_events.TryPeek(out var oldest) && time.GetElapsedTime(oldest.At, now) > _keepFor)
        {
            _events.Dequeue();
            _bytes -= Size(oldest.Batch);
        }
    }

    private void Unref(string room)
    {
        if (_roomRefs.TryGetValue(room, out var refs) && refs > 1)
        {
            _roomRefs[room] = refs - 1;
        }
        else
        {
            _roomRefs.Remove(room);
        }
    }

    private static long Size(DeliveryBatch batch) => batch.Payload.Length + (batch.EventName.Length * 2) + 64;

    private sealed class Record
    {
        public Dictionary<string, long> Rooms { get; } = new(StringComparer.Ordinal);

        public List<Left> Left { get; } = [];

        public byte[][] TokenHashes { get; set; } = [];

        public Presence.PresenceEntry[]? Presence { get; set; }

        public string? MovingTo { get; set; }
    }

    private readonly record struct Left(string Room, long Joined, long LeftAt, long At);

    private readonly record struct Entry(long Position, long At, DeliveryBatch Batch);
}
