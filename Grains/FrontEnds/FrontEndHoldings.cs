namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// Per front end, the room grains and socket grains active on this silo that list it or hold its presence entries: what
/// <see cref="GoneFrontEndSweeper"/> takes it out of once the registry no longer lists it (docs/design.md,
/// "Sweeping"). Room grains note <c>Add</c> and <c>Remove</c>, socket grains <c>Connect</c> and <c>Disconnect</c>,
/// room grains also a front end's first presence entry and its last, each their deactivation. Each hold carries a silo-local sequence number, so a sweep can tell a hold made
/// before its decision from one a returning front end made since. A lock and a few dictionaries; no grain calls.
/// </summary>
internal sealed class FrontEndHoldings
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Held> _byFrontEnd = new(StringComparer.Ordinal);
    private long _sequence;

    /// <summary>The sequence number of the latest hold: every hold noted so far has this number or a lower one.</summary>
    public long Sequence
    {
        get
        {
            lock (_lock)
            {
                return _sequence;
            }
        }
    }

    public void HoldRoom(string frontEndId, string room) => Hold(frontEndId, room, Kind.Room);

    public void ReleaseRoom(string frontEndId, string room) => Release(frontEndId, room, Kind.Room);

    public void HoldSocket(string frontEndId, string socketId) => Hold(frontEndId, socketId, Kind.Socket);

    public void ReleaseSocket(string frontEndId, string socketId) => Release(frontEndId, socketId, Kind.Socket);

    public void HoldPresence(string frontEndId, string room) => Hold(frontEndId, room, Kind.Presence);

    public void ReleasePresence(string frontEndId, string room) => Release(frontEndId, room, Kind.Presence);

    /// <summary>Whether the room grain holds the front end here and was last told so at or before <paramref name="sequence"/>.</summary>
    public bool RoomHeldUpTo(string frontEndId, string room, long sequence) => HeldUpTo(frontEndId, room, sequence, Kind.Room);

    /// <summary>Whether the socket grain holds the front end here and was last told so at or before <paramref name="sequence"/>.</summary>
    public bool SocketHeldUpTo(string frontEndId, string socketId, long sequence) => HeldUpTo(frontEndId, socketId, sequence, Kind.Socket);

    /// <summary>Whether the room's grain holds presence entries of the front end here, last changed at or before <paramref name="sequence"/>.</summary>
    public bool PresenceHeldUpTo(string frontEndId, string room, long sequence) => HeldUpTo(frontEndId, room, sequence, Kind.Presence);

    /// <summary>The front ends that some grain on this silo holds.</summary>
    public string[] FrontEnds()
    {
        lock (_lock)
        {
            return [.. _byFrontEnd.Keys];
        }
    }

    /// <summary>The rooms, sockets and presence rooms that hold the front end here, as of now.</summary>
    public (string[] Rooms, string[] Sockets, string[] Presence) Of(string frontEndId)
    {
        lock (_lock)
        {
            return _byFrontEnd.TryGetValue(frontEndId, out var held) ? ([.. held.Rooms.Keys], [.. held.Sockets.Keys], [.. held.Presence.Keys]) : ([], [], []);
        }
    }

    private void Hold(string frontEndId, string key, Kind kind)
    {
        lock (_lock)
        {
            if (!_byFrontEnd.TryGetValue(frontEndId, out var held))
            {
                _byFrontEnd[frontEndId] = held = new Held();
            }

            held.Of(kind)[key] = ++_sequence;
        }
    }

    private void Release(string frontEndId, string key, Kind kind)
    {
        lock (_lock)
        {
            if (_byFrontEnd.TryGetValue(frontEndId, out var held) && held.Of(kind).Remove(key) && held.IsEmpty)
            {
                _byFrontEnd.Remove(frontEndId);
            }
        }
    }

    private bool HeldUpTo(string frontEndId, string key, long sequence, Kind kind)
    {
        lock (_lock)
        {
            return _byFrontEnd.TryGetValue(frontEndId, out var held) && held.Of(kind).TryGetValue(key, out var at) && at <= sequence;
        }
    }

    /// <summary>One front end's grains here, each with the sequence number of its latest hold.</summary>
    private sealed class Held
    {
        public Dictionary<string, long> Rooms { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Sockets { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Presence { get; } = new(StringComparer.Ordinal);

        public bool IsEmpty => Rooms.Count == 0 && Sockets.Count == 0 && Presence.Count == 0;

        public Dictionary<string, long> Of(Kind kind) => kind switch
        {
            Kind.Room => Rooms,
            Kind.Socket => Sockets,
            _ => Presence,
        };
    }

    private enum Kind
    {
        Room,
        Socket,
        Presence,
    }
}
