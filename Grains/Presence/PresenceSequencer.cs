using Microsoft.Extensions.Logging;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Presence;

/// <summary>
/// One room's presence (docs/presence.md), kept by its room grain (<see cref="RoomGrain"/>) from the first call about
/// it: per socket that tracks itself, its key, its meta and the front end that holds it. Changes are numbered and
/// sent as one <c>presence_diff</c> per <see cref="PresenceBatch.DiffDelay"/> to every front end the room lists (one
/// batch each, through its front-end grain, in order). A batch holds at most one leave and one join per socket, the
/// leave first, so that a client that applies a diff's leaves before its joins ends where the room is; a change that
/// would break that sends the batch first.
/// </summary>
/// <remarks>
/// The state it answers has every acknowledged change in it, with the number of the last diff sent: the diffs after
/// that number are what a client applies on top of it; the first of them may repeat changes the state has already,
/// which a client skips (a join of a meta it has, a leave of a meta it does not have: docs/presence.md, "Clients").
/// It sends once the silo's <see cref="DiffClock"/> finds the diff due, never while a caller waits, so no call chain
/// comes back to the room grain (docs/design.md, "Call graph"). Runs on the room grain's scheduler only (the clock's
/// <see cref="FlushDue"/> only queues work there): no lock.
/// </remarks>
internal sealed partial class PresenceSequencer(RoomGrain room, IGrainFactory grains, TimeProvider time, ClusterHealing healing, FrontEndHoldings holdings, LocalFrontEnds inProcess, DiffClock clock, DiffSender sender, long activatedAt, ILogger logger)
{
    private static readonly TimeSpan MaxDiffDelay = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _entriesByFrontEnd = new(StringComparer.Ordinal);
    private readonly List<Transition> _pending = [];
    private readonly Dictionary<string, (bool Left, bool Joined)> _pendingBySocket = new(StringComparer.Ordinal);
    private readonly Queue<DeliveryBatch> _outbox = new();
    private readonly List<string> _covered = [];
    private readonly string _epoch = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 6));
    private long _seq;
    private PresenceState? _state;
    private bool _flushScheduled;
    private bool _deactivated;
    private TimeSpan _diffDelay = TimeSpan.FromMilliseconds(50);
    private bool _sending;
    private long? _incompleteUntil = healing.WindowEnds();
    private bool _applied;

    /// <summary>Entries held, a diff waiting or being sent: the room grain must stay.</summary>
    public bool Busy => _entries.Count > 0 || _pending.Count > 0 || _sending;

    private string Name => room.Name;

    private string Version => $"{_epoch}.{_seq}";

    /// <summary>
    /// Activated while the cluster heals: the front ends may not have listed their entries again yet. This silo may
    /// learn of a silo's loss a moment after this activation (each silo reads the membership on its own), so while
    /// the activation is younger than the window a loss noticed since counts too, and so does having heard from no
    /// front end yet: an empty new activation may be a lost one whose loss this silo has not seen.
    /// </summary>
    private bool Incomplete
    {
        get
        {
            if (_incompleteUntil is null && time.GetElapsedTime(activatedAt) < GrainLimits.HealWindow)
            {
                _incompleteUntil = healing.WindowEnds();
                if (_incompleteUntil is null && !_applied)
                {
                    return true;
                }
            }

            if (_incompleteUntil is { } until && time.GetTimestamp() >= until)
            {
                _incompleteUntil = null;
            }

            return _incompleteUntil is not null;
        }
    }

    public PresenceState? Apply(string frontEndId, PresenceBatch batch)
    {
        ArgumentException.ThrowIfNullOrEmpty(frontEndId);
        _diffDelay = batch.DiffDelay < TimeSpan.Zero ? TimeSpan.Zero : batch.DiffDelay > MaxDiffDelay ? MaxDiffDelay : batch.DiffDelay;
        var silent = batch.Relist && Incomplete;
        _applied = true;
        foreach (var change in batch.Changes)
        {
            if (change.Tracked)
            {
                Track(frontEndId, change, silent);
            }
            else if (_entries.TryGetValue(change.SocketId, out var entry))
            {
                Remove(change.SocketId, entry);
            }
            else if (Incomplete)
            {
                // Tracked before this activation and not listed again yet: the room's members still have it.
                Add(new Transition(Join: false, change.SocketId, change.Key, change.Meta));
            }
        }

        if (batch.StateTo is not { } stateTo)
        {
            Settle();
            return null;
        }

        if (_pending.Count > 0)
        {
            _covered.AddRange(stateTo); // until a change comes after this state
        }

        Settle();
        return State();
    }

    /// <summary>Every entry of a front end that is gone leaves (once).</summary>
    public void RemoveFrontEnd(string frontEndId)
    {
        foreach (var (socketId, entry) in _entries.Where(e => e.Value.FrontEnd == frontEndId).ToArray())
        {
            Remove(socketId, entry);
        }

        Settle();
    }

    /// <summary><see cref="RemoveFrontEnd"/> from the silo's sweeper: only if the front end last changed entries here at or before <paramref name="heldUpTo"/>.</summary>
    public void RemoveGone(string frontEndId, long heldUpTo)
    {
        if (holdings.PresenceHeldUpTo(frontEndId, Name, heldUpTo))
        {
            RemoveFrontEnd(frontEndId);
        }
    }

    /// <summary>The room grain goes: the front ends' entries here are no longer held on this silo.</summary>
    public void Deactivated()
    {
        _deactivated = true;
        foreach (var frontEndId in _entriesByFrontEnd.Keys)
        {
            holdings.ReleasePresence(frontEndId, Name);
        }
    }

    private void Track(string frontEndId, PresenceChange change, bool silent)
    {
        var entry = new Entry(change.Key, change.Meta, frontEndId);
        _state = null;
        if (_entries.TryGetValue(change.SocketId, out var existing))
        {
            if (existing.FrontEnd != frontEndId)
            {
                Release(existing.FrontEnd);
                Hold(frontEndId);
            }
            else
            {
                holdings.HoldPresence(frontEndId, Name); // every change: newer than any sweep's decision
            }

            _entries[change.SocketId] = entry;
            if (silent || (existing.Key == change.Key && existing.Meta.AsSpan().SequenceEqual(change.Meta)))
            {
                return; // the same entry listed again, or moved with its socket: nobody sees a change
            }

            Add(new Transition(Join: false, change.SocketId, existing.Key, existing.Meta));
        }
        else
        {
            _entries[change.SocketId] = entry;
            Hold(frontEndId);
            if (silent)
            {
                return; // it was in the room's state before this activation
            }
        }

        Add(new Transition(Join: true, change.SocketId, change.Key, change.Meta));
    }

    private void Remove(string socketId, Entry entry)
    {
        _entries.Remove(socketId);
        _state = null;
        Release(entry.FrontEnd);
        Add(new Transition(Join: false, socketId, entry.Key, entry.Meta));
    }

    private void Hold(string frontEndId)
    {
        _entriesByFrontEnd[frontEndId] = _entriesByFrontEnd.GetValueOrDefault(frontEndId) + 1;
        holdings.HoldPresence(frontEndId, Name);
    }

    private void Release(string frontEndId)
    {
        var count = _entriesByFrontEnd.GetValueOrDefault(frontEndId) - 1;
        if (count > 0)
        {
            _entriesByFrontEnd[frontEndId] = count;
            return;
        }

        _entriesByFrontEnd.Remove(frontEndId);
        holdings.ReleasePresence(frontEndId, Name);
    }

    /// <summary>Adds a transition to the pending diff; one this diff cannot hold in order (a second join, a leave after a join) sends the diff first.</summary>
    private void Add(Transition transition)
    {
        var (left, joined) = _pendingBySocket.GetValueOrDefault(transition.SocketId);
        if (joined || (!transition.Join && left))
        {
            Flush();
            (left, joined) = (false, false);
        }

        _covered.Clear();
        _pending.Add(transition);
        _pendingBySocket[transition.SocketId] = transition.Join ? (left, true) : (true, joined);
    }

    /// <summary>After a call's changes: the pending diff goes on the silo's diff clock (or now, with no delay), and the room grain stays while this holds anything.</summary>
    private void Settle()
    {
        if (_pending.Count > 0)
        {
            if (_diffDelay == TimeSpan.Zero)
            {
                Flush();
            }
            else if (!_flushScheduled)
            {
                _flushScheduled = true;
                clock.Schedule(this, _diffDelay);
            }
        }

        room.PresenceSettled();
    }

    /// <summary>
    /// The pending diff is due (<see cref="DiffClock"/>, on its thread): flushed on the grain's scheduler, one task at a
    /// time with the grain's own. It may run while a call awaits; every change is made in one synchronous step, so it
    /// sees none half made.
    /// </summary>
    public void FlushDue() => room.GrainContext.Scheduler.QueueAction(static state => ((PresenceSequencer)state).OnFlushDue(), this);

    private void OnFlushDue()
    {
        _flushScheduled = false;
        if (_deactivated)
        {
            return;
        }

        Flush();
        Settle();
    }

    /// <summary>Numbers the pending diff and queues it for every front end of the room.</summary>
    private void Flush()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        _seq++;
        var joinCount = 0;
        foreach (var t in _pending)
        {
            joinCount += t.Join ? 1 : 0;
        }

        var joins = new (string, byte[])[joinCount];
        var leaves = new (string, byte[])[_pending.Count - joinCount];
        var (j, l) = (0, 0);
        foreach (var t in _pending)
        {
            if (t.Join)
            {
                joins[j++] = (t.Key, t.Meta);
            }
            else
            {
                leaves[l++] = (t.Key, t.Meta);
            }
        }

        // The sockets answered a state with every change of this diff in it would apply none of it: not sent to them.
        string[]? except = _covered.Count > 0 ? [.. _covered] : null;
        _covered.Clear();
        _pending.Clear();
        _pendingBySocket.Clear();
        _state = null;
        var payload = PresenceJson.DiffEvent(Name, joins, leaves, Version);
        _outbox.Enqueue(new DeliveryBatch(PresenceEvents.Diff, payload, [Name], except, Guid.NewGuid()));
        if (!_sending)
        {
            _sending = true;
            _ = SendAsync();
        }
    }

    /// <summary>
    /// Sends the queued diffs one after the other (so every front end gets them in order), each to every front end
    /// the room lists (every attached one while its list may be partial). Runs between the grain's turns: no caller waits on it.
    /// </summary>
    private async Task SendAsync()
    {
        try
        {
            while (_outbox.TryDequeue(out var batch))
            {
                try
                {
                    var listed = room.Listing();
                    var frontEnds = listed.Complete
                        ? listed.FrontEnds
                        : listed.FrontEnds.Union(await grains.GetGrainByKey<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key).GetFrontEnds(), StringComparer.Ordinal).ToArray();
                    await Task.WhenAll(frontEnds.Select(id => DeliverAsync(id, batch)));
                }
                catch (Exception ex)
                {
                    LogDiffFailed(ex, Name);
                }
            }
        }
        finally
        {
            _sending = false;
            Settle();
        }
    }

    /// <summary>
    /// One diff to one front end: with the diffs of this silo's other rooms to it, in few calls (<see cref="DiffSender"/>,
    /// which sends again what was not handed over). A front end in this process (the embedded shape) is handed it
    /// directly, as its own broadcasts are, without a call to its front-end grain.
    /// </summary>
    private Task DeliverAsync(string frontEndId, DeliveryBatch batch)
        => inProcess.InProcess(frontEndId) is { } here ? here.DeliverFromThisProcess(batch) : sender.SendAsync(frontEndId, batch);

    /// <summary>Every acknowledged entry, with the number of the last diff sent (made once per change).</summary>
    public PresenceState State()
    {
        var complete = !Incomplete;
        if (_state is null || _state.Complete != complete)
        {
            var entries = new (string Key, byte[] Meta)[_entries.Count];
            var i = 0;
            foreach (var entry in _entries.Values)
            {
                entries[i++] = (entry.Key, entry.Meta);
            }

            _state = new PresenceState(PresenceJson.State(entries), Version, complete);
        }

        return _state;
    }

    [LoggerMessage(1, LogLevel.Warning, "A presence diff of room {Room} could not be sent to every front end of the room.")]
    private partial void LogDiffFailed(Exception exception, string room);

    private sealed record Entry(string Key, byte[] Meta, string FrontEnd);

    private readonly record struct Transition(bool Join, string SocketId, string Key, byte[] Meta);
}
