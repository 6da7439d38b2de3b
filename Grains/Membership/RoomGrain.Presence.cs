using Microsoft.Extensions.Logging;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.Membership;

/// <summary>
/// The room's presence (docs/presence.md), kept by its room grain (<see cref="IPresenceGrain"/>): per socket that
/// tracks itself, its key, its meta and the front end that holds it. One grain per room serves both, so a track in
/// a new room activates one grain, as a join does, and a diff reads the room's front ends without a call.
/// Changes are numbered and sent as one <c>presence_diff</c> per <see cref="PresenceBatch.DiffDelay"/>
/// to every front end that holds members of the room (one batch each, through its front-end grain, in order).
/// A batch holds at most one leave and one join per socket, the leave first, so that a client that applies a
/// diff's leaves before its joins ends where the room is; a change that would break that sends the batch first.
/// </summary>
/// <remarks>
/// The state it answers has every acknowledged change in it, with the number of the last diff sent: the diffs after
/// that number are what a client applies on top of it; the first of them may repeat changes the state has already,
/// which a client skips (a join of a meta it has, a leave of a meta it does not have: docs/presence.md, "Clients").
/// It sends from its own timer, never while a caller waits, so no call chain comes back to it (docs/design.md, "Call graph").
/// </remarks>
internal sealed partial class RoomGrain : IPresenceGrain
{
    private static readonly TimeSpan MaxDiffDelay = TimeSpan.FromSeconds(1);

    private Presence? _presence;

    /// <summary>The room's presence, made when first used: a room nobody tracks in holds none of it.</summary>
    private Presence P => _presence ??= new Presence { IncompleteUntil = _incompleteUntil };

    /// <summary>
    /// Activated while the cluster heals: the front ends may not have listed their entries again yet. This silo may
    /// learn of a silo's loss a moment after this activation (each silo reads the membership on its own), so while
    /// the activation is younger than the window a loss noticed since counts too, and so does having heard from no
    /// front end yet: an empty new activation may be a lost one whose loss this silo has not seen.
    /// </summary>
    private bool PresenceIncomplete
    {
        get
        {
            var p = P;
            if (p.IncompleteUntil is null && time.GetElapsedTime(_activatedAt) < GrainLimits.HealWindow)
            {
                p.IncompleteUntil = healing.WindowEnds();
                if (p.IncompleteUntil is null && !p.Applied)
                {
                    return true;
                }
            }

            if (p.IncompleteUntil is { } until && time.GetTimestamp() >= until)
            {
                p.IncompleteUntil = null;
            }

            return p.IncompleteUntil is not null;
        }
    }

    /// <summary>Whether presence holds anything that would be lost with the activation.</summary>
    private bool PresenceHolds => _presence is { } p && (p.Entries.Count > 0 || p.Pending.Count > 0 || p.Sending);

    public Task<PresenceState?> Apply(string frontEndId, PresenceBatch batch)
    {
        ArgumentException.ThrowIfNullOrEmpty(frontEndId);
        var p = P;
        p.DiffDelay = batch.DiffDelay < TimeSpan.Zero ? TimeSpan.Zero : batch.DiffDelay > MaxDiffDelay ? MaxDiffDelay : batch.DiffDelay;
        var silent = batch.Relist && PresenceIncomplete;
        p.Applied = true;
        foreach (var change in batch.Changes)
        {
            if (change.Tracked)
            {
                Track(frontEndId, change, silent);
            }
            else if (p.Entries.TryGetValue(change.SocketId, out var entry))
            {
                RemoveEntry(change.SocketId, entry);
            }
            else if (PresenceIncomplete)
            {
                // Tracked before this activation and not listed again yet: the room's members still have it.
                AddTransition(new Transition(Join: false, change.SocketId, change.Key, change.Meta));
            }
        }

        SettlePresence();
        return Task.FromResult(batch.WantState ? PresenceStateNow() : null);
    }

    public Task<PresenceState> GetState() => Task.FromResult(PresenceStateNow());

    public Task RemoveFrontEnd(string frontEndId)
    {
        if (_presence is { } p)
        {
            foreach (var (socketId, entry) in p.Entries.Where(e => e.Value.FrontEnd == frontEndId).ToArray())
            {
                RemoveEntry(socketId, entry);
            }

            SettlePresence();
        }

        return Task.CompletedTask;
    }

    Task IPresenceGrain.RemoveGone(string frontEndId, long heldUpTo)
        => holdings.PresenceHeldUpTo(frontEndId, Name, heldUpTo) ? RemoveFrontEnd(frontEndId) : Task.CompletedTask;

    /// <summary>The presence grain's part of a deactivation: the front ends its entries held are released here.</summary>
    private void ReleasePresenceHoldings()
    {
        foreach (var frontEndId in _presence?.EntriesByFrontEnd.Keys ?? Enumerable.Empty<string>())
        {
            holdings.ReleasePresence(frontEndId, Name);
        }
    }

    private void Track(string frontEndId, PresenceChange change, bool silent)
    {
        var p = P;
        var entry = new Entry(change.Key, change.Meta, frontEndId);
        p.State = null;
        if (p.Entries.TryGetValue(change.SocketId, out var existing))
        {
            if (existing.FrontEnd != frontEndId)
            {
                ReleaseEntry(existing.FrontEnd);
                HoldEntry(frontEndId);
            }
            else
            {
                holdings.HoldPresence(frontEndId, Name); // every change: newer than any sweep's decision
            }

            p.Entries[change.SocketId] = entry;
            if (silent || (existing.Key == change.Key && existing.Meta.AsSpan().SequenceEqual(change.Meta)))
            {
                return; // the same entry listed again, or moved with its socket: nobody sees a change
            }

            AddTransition(new Transition(Join: false, change.SocketId, existing.Key, existing.Meta));
        }
        else
        {
            p.Entries[change.SocketId] = entry;
            HoldEntry(frontEndId);
            if (silent)
            {
                return; // it was in the room's state before this activation
            }
        }

        AddTransition(new Transition(Join: true, change.SocketId, change.Key, change.Meta));
    }

    private void RemoveEntry(string socketId, Entry entry)
    {
        P.Entries.Remove(socketId);
        P.State = null;
        ReleaseEntry(entry.FrontEnd);
        AddTransition(new Transition(Join: false, socketId, entry.Key, entry.Meta));
    }

    private void HoldEntry(string frontEndId)
    {
        P.EntriesByFrontEnd[frontEndId] = P.EntriesByFrontEnd.GetValueOrDefault(frontEndId) + 1;
        holdings.HoldPresence(frontEndId, Name);
    }

    private void ReleaseEntry(string frontEndId)
    {
        var count = P.EntriesByFrontEnd.GetValueOrDefault(frontEndId) - 1;
        if (count > 0)
        {
            P.EntriesByFrontEnd[frontEndId] = count;
            return;
        }

        P.EntriesByFrontEnd.Remove(frontEndId);
        holdings.ReleasePresence(frontEndId, Name);
    }

    /// <summary>Adds a transition to the pending diff; one this diff cannot hold in order (a second join, a leave after a join) sends the diff first.</summary>
    private void AddTransition(Transition transition)
    {
        var p = P;
        var (left, joined) = p.PendingBySocket.GetValueOrDefault(transition.SocketId);
        if (joined || (!transition.Join && left))
        {
            Flush();
            (left, joined) = (false, false);
        }

        p.Pending.Add(transition);
        p.PendingBySocket[transition.SocketId] = transition.Join ? (left, true) : (true, joined);
    }

    /// <summary>After a call's changes: the pending diff goes on the timer (or now, with no delay), and the grain stays while it holds anything.</summary>
    private void SettlePresence()
    {
        var p = P;
        if (p.Pending.Count > 0)
        {
            if (p.DiffDelay == TimeSpan.Zero)
            {
                Flush();
            }
            else
            {
                p.FlushTimer ??= this.RegisterGrainTimer(OnFlushDue, new GrainTimerCreationOptions(p.DiffDelay, Timeout.InfiniteTimeSpan) { KeepAlive = true });
            }
        }

        KeepOrAllowCollection();
    }

    private Task OnFlushDue(CancellationToken cancellationToken)
    {
        P.FlushTimer?.Dispose();
        P.FlushTimer = null;
        Flush();
        SettlePresence();
        return Task.CompletedTask;
    }

    /// <summary>Numbers the pending diff and queues it for every front end of the room.</summary>
    private void Flush()
    {
        var p = P;
        if (p.Pending.Count == 0)
        {
            return;
        }

        p.Seq++;
        var joins = new List<(string, byte[])>();
        var leaves = new List<(string, byte[])>();
        foreach (var t in p.Pending)
        {
            (t.Join ? joins : leaves).Add((t.Key, t.Meta));
        }

        p.Pending.Clear();
        p.PendingBySocket.Clear();
        p.State = null;
        var payload = PresenceJson.DiffEvent(Name, joins, leaves, p.Version);
        p.Outbox.Enqueue(new DeliveryBatch(PresenceEvents.Diff, payload, [Name], null, Guid.NewGuid()));
        if (!p.Sending)
        {
            p.Sending = true;
            _ = SendAsync(p);
        }
    }

    /// <summary>
    /// Sends the queued diffs one after the other (so every front end gets them in order), each to every front end
    /// the room lists (every attached one while its list may be partial). Runs between the grain's turns: no caller waits on it.
    /// </summary>
    private async Task SendAsync(Presence p)
    {
        try
        {
            while (p.Outbox.TryDequeue(out var batch))
            {
                try
                {
                    var listed = Listing();
                    var frontEnds = listed.Complete
                        ? listed.FrontEnds
                        : listed.FrontEnds.Union(await GrainFactory.GetGrainByKey<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key).GetFrontEnds(), StringComparer.Ordinal).ToArray();
                    await Task.WhenAll(frontEnds.Select(id => GrainFactory.GetGrainByKey<IFrontEndGrain>(id).Deliver(batch)));
                }
                catch (Exception ex)
                {
                    LogDiffFailed(ex, Name);
                }
            }
        }
        finally
        {
            p.Sending = false;
            SettlePresence();
        }
    }

    /// <summary>Every acknowledged entry, with the number of the last diff sent (made once per change).</summary>
    private PresenceState PresenceStateNow()
    {
        var p = P;
        var complete = !PresenceIncomplete;
        if (p.State is null || p.State.Complete != complete)
        {
            p.State = new PresenceState(PresenceJson.State(p.Entries.Values.Select(e => (e.Key, e.Meta))), p.Version, complete);
        }

        return p.State;
    }

    [LoggerMessage(1, LogLevel.Warning, "A presence diff of room {Room} could not be sent to every front end of the room.")]
    private partial void LogDiffFailed(Exception exception, string room);

    private sealed record Entry(string Key, byte[] Meta, string FrontEnd);

    private readonly record struct Transition(bool Join, string SocketId, string Key, byte[] Meta);

    /// <summary>The room's presence memory: its entries, the diff being gathered, the diffs being sent.</summary>
    private sealed class Presence
    {
        private readonly string _epoch = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 6));

        public Dictionary<string, Entry> Entries { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, int> EntriesByFrontEnd { get; } = new(StringComparer.Ordinal);

        public List<Transition> Pending { get; } = [];

        public Dictionary<string, (bool Left, bool Joined)> PendingBySocket { get; } = new(StringComparer.Ordinal);

        public Queue<DeliveryBatch> Outbox { get; } = new();

        public long Seq { get; set; }

        public PresenceState? State { get; set; }

        public IGrainTimer? FlushTimer { get; set; }

        public TimeSpan DiffDelay { get; set; } = TimeSpan.FromMilliseconds(50);

        public bool Sending { get; set; }

        public long? IncompleteUntil { get; set; }

        public bool Applied { get; set; }

        /// <summary>This activation's epoch and the last diff it numbered.</summary>
        public string Version => $"{_epoch}.{Seq}";
    }
}
