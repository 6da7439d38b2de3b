using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// A front end's record of one socket's rooms: the source of truth the cluster is rebuilt from, so it must
/// list at least every room that lists the socket. Two kinds of writes reach it:
/// <list type="bullet">
/// <item>notices from the socket grain of changes others asked for (joins before any room lists them,
/// leaves once every room dropped them);</item>
/// <item>this front end's own changes, which it records itself: a join is held as "joining" from before
/// the call until its answer, and the answer (or, if the call failed, a fresh read of the grain) is applied
/// like a notice.</item>
/// </list>
/// Notices and answers travel separately and may arrive out of order, so each carries the grain's sequence
/// number, and while own changes are in flight each room keeps the number of its latest change: an older
/// change to the same room is dropped. (A notice is acknowledged before the grain makes its next change, so
/// only answers can arrive late; with none in flight there is nothing to reorder.)
/// </summary>
/// <param name="socketId">The socket.</param>
/// <param name="changed">Told, outside the record's lock, of the rooms the record really gained and lost.</param>
internal sealed class SocketRecord(string socketId, Action<string, IReadOnlyList<string>, IReadOnlyList<string>>? changed = null)
{
    private readonly HashSet<string> _rooms = new(StringComparer.Ordinal) { socketId };
    private readonly Dictionary<string, int> _joining = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _changedAt = new(StringComparer.Ordinal);
    private long _sequence;
    private int _ownInFlight;

    /// <summary>The recorded rooms (own-id room included) with the joins in flight, and the latest sequence seen.</summary>
    public RoomsSnapshot Snapshot()
    {
        lock (_rooms)
        {
            if (_joining.Count == 0)
            {
                return new RoomsSnapshot(_sequence, [.. _rooms]);
            }

            var rooms = new HashSet<string>(_rooms, StringComparer.Ordinal);
            rooms.UnionWith(_joining.Keys);
            return new RoomsSnapshot(_sequence, [.. rooms]);
        }
    }

    /// <summary>A change the socket grain made for someone else and told this front end of.</summary>
    public void Apply(RoomsChange change)
    {
        var diff = default(Diff);
        lock (_rooms)
        {
            ApplyLocked(change, ref diff);
        }

        Report(diff);
    }

    /// <summary>This front end is about to change the socket's rooms itself; <paramref name="joining"/> counts as recorded from now on.</summary>
    public void BeginOwnChange(string[] joining)
    {
        lock (_rooms)
        {
            _ownInFlight++;
            foreach (var room in joining)
            {
                _joining[room] = _joining.GetValueOrDefault(room) + 1;
            }
        }
    }

    /// <summary>
    /// The own change is over: <paramref name="answer"/> is what the grain committed; null when the outcome is
    /// unknown and <paramref name="current"/> (the grain's rooms read afterwards) could not be had either, in
    /// which case the joins stay recorded, erring on the side of restoring too much rather than too little.
    /// </summary>
    public void EndOwnChange(string[] joining, RoomsChange? answer, RoomsSnapshot? current)
    {
        var diff = default(Diff);
        lock (_rooms)
        {
            if (answer is not null)
            {
                ApplyLocked(answer, ref diff);
            }
            else if (current is not null)
            {
                ApplySnapshotLocked(current, ref diff);
            }
            else
            {
                foreach (var room in joining)
                {
                    diff.Add(_rooms, room);
                }
            }

            foreach (var room in joining)
            {
                if (_joining[room] == 1)
                {
                    _joining.Remove(room);
                }
                else
                {
                    _joining[room]--;
                }
            }

            if (--_ownInFlight == 0)
            {
                _changedAt.Clear();
            }
        }

        Report(diff);
    }

    /// <summary>Everything the record holds at the end of the socket (what it leaves by disconnecting).</summary>
    public string[] Rooms()
    {
        lock (_rooms)
        {
            return [.. _rooms];
        }
    }

    private void ApplyLocked(RoomsChange change, ref Diff diff)
    {
        _sequence = Math.Max(_sequence, change.Sequence);
        foreach (var room in change.Joined)
        {
            if (Newer(room, change.Sequence))
            {
                diff.Add(_rooms, room);
            }
        }

        foreach (var room in change.Left)
        {
            if (Newer(room, change.Sequence))
            {
                diff.Remove(_rooms, room);
            }
        }
    }

    private void ApplySnapshotLocked(RoomsSnapshot current, ref Diff diff)
    {
        _sequence = Math.Max(_sequence, current.Sequence);
        var now = new HashSet<string>(current.Rooms, StringComparer.Ordinal);
        foreach (var room in _rooms.Union(now).ToArray())
        {
            if (Newer(room, current.Sequence))
            {
                if (now.Contains(room))
                {
                    diff.Add(_rooms, room);
                }
                else
                {
                    diff.Remove(_rooms, room);
                }
            }
        }
    }

    /// <summary>Whether a change numbered <paramref name="sequence"/> is the latest heard of for <paramref name="room"/>.</summary>
    private bool Newer(string room, long sequence)
    {
        if (_ownInFlight == 0)
        {
            return true;
        }

        if (_changedAt.TryGetValue(room, out var at) && at >= sequence)
        {
            return false;
        }

        _changedAt[room] = sequence;
        return true;
    }

    private void Report(Diff diff)
    {
        if (changed is not null && (diff.Added is not null || diff.Removed is not null))
        {
            changed(socketId, diff.Added ?? [], diff.Removed ?? []);
        }
    }

    /// <summary>
    /// The rooms a change really added to and removed from the record (a repeated join or leave changes nothing);
    /// its lists are made only when something changed.
    /// </summary>
    private struct Diff
    {
        public List<string>? Added { get; private set; }

        public List<string>? Removed { get; private set; }

        public void Add(HashSet<string> rooms, string room)
        {
            if (rooms.Add(room))
            {
                (Added ??= []).Add(room);
            }
        }

        public void Remove(HashSet<string> rooms, string room)
        {
            if (rooms.Remove(room))
            {
                (Removed ??= []).Add(room);
            }
        }
    }
}
