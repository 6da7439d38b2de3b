using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Rooms.Directory;
using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.Membership;

/// <summary>
/// Which front ends hold members of one room, and the room's presence once someone tracks in it
/// (<see cref="PresenceSequencer"/>). Changed by front-end rooms grains, and by its silo's
/// <see cref="GoneFrontEndSweeper"/> for a front end that is gone (each front end it lists, and each that holds
/// presence entries here, is noted in <see cref="FrontEndHoldings"/>). While a caller waits it calls only the room
/// directory (when the room appears or empties); presence diffs leave from a loop between its turns, which keeps
/// the call graph acyclic.
/// </summary>
/// <remarks>
/// Listing is synchronous, delisting is not: a room that empties stays listed (and pinned) until it has been
/// empty for <see cref="GrainLimits.DelistEmptyRoomAfter"/>, checked by one timer that runs only while the room is empty. Readers
/// of the list ask the front ends which listed rooms have members, so the list they see stays exact.
/// Presence lives here rather than in a grain of its own so that a track costs no activation and no call more than
/// its join, and its diffs read the front ends from this memory.
/// </remarks>
[CollectionAgeLimit(Minutes = 2)] // only empty rooms are collected: pinned by Add, released once empty a while
[RandomPlacement] // called from a few grains (front-end and front-end rooms grains): spread over every silo, a new one too, not kept next to the caller
[Immovable] // its state lives in memory only: a migration (rebalancer, repartitioner) would lose it
internal sealed class RoomGrain(TimeProvider time, ClusterHealing healing, FrontEndHoldings holdings, LocalFrontEnds inProcess, DiffClock diffClock, DiffSender diffSender, SiloStopping silo, ILogger<PresenceSequencer> presenceLogger) : InMemoryGrain, IRoomGrain
{
    private readonly HashSet<string> _frontEnds = new(StringComparer.Ordinal);
    private RoomFrontEnds? _listing;
    private bool _listed;
    private bool _delistChecked;
    private DateTimeOffset _listedAt = DateTimeOffset.MinValue;
    private bool _pinned;
    private long _emptiedAt;
    private IGrainTimer? _emptyCheck;
    private long? _incompleteUntil;
    private long _activatedAt;
    private PresenceSequencer? _presence;

    internal string Name => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Activated while the cluster heals: this may be a room whose grain was lost with its silo, and the
        // front ends that hold its members may not have listed it here again yet.
        _activatedAt = time.GetTimestamp();
        _incompleteUntil = healing.WindowEnds();
        return Task.CompletedTask;
    }

    public async Task Add(string frontEndId, bool listable, bool relist)
    {
        ArgumentException.ThrowIfNullOrEmpty(frontEndId);
        if (_frontEnds.Add(frontEndId))
        {
            _listing = null;
        }

        // Every Add, a repeated one too: a relisting front end's Add must be newer than any sweep's decision.
        holdings.HoldRoom(frontEndId, Name);

        if (!_pinned)
        {
            // Pinned while it lists front ends (the listing lives in memory and must outlive idleness), and
            // until it has been empty for a while.
            KeepActive();
            _pinned = true;
        }

        // A rebuild re-lists the room too, in case the directory shard was the part that was lost; each front
        // end sends one, so re-listing is limited to one shard call a second.
        if (listable && (!_listed || (relist && time.GetUtcNow() - _listedAt >= GrainLimits.RelistRoomAtMostEvery)))
        {
            await GrainFactory.ShardFor(Name).Add(Name);
            _listed = true;
            _listedAt = time.GetUtcNow();
            _delistChecked = false;
        }
    }

    public async Task Remove(string frontEndId)
    {
        if (!_frontEnds.Remove(frontEndId))
        {
            if (_frontEnds.Count == 0 && !_listed && !_delistChecked)
            {
                // An empty activation asked to remove a front end: it may have lost its state along with a silo
                // while the directory still lists the room. Delist once (a rebuild lists it again if needed).
                await GrainFactory.ShardFor(Name).Remove(Name);
                _delistChecked = true;
            }

            return;
        }

        holdings.ReleaseRoom(frontEndId, Name);
        _listing = null;
        if (_frontEnds.Count == 0)
        {
            WatchEmpty();
        }
    }

    public Task RemoveGone(string frontEndId, long heldUpTo)
        => holdings.RoomHeldUpTo(frontEndId, Name, heldUpTo) ? Remove(frontEndId) : Task.CompletedTask;

    public Task<RoomFrontEnds> GetListedFrontEnds()
    {
        if (_frontEnds.Count == 0 && !_listed && !_delistChecked)
        {
            // Asked because the directory lists it, yet this activation never had members: the entry outlived
            // the room (its silo went). Delist it in a moment, unless the room is joined again meanwhile.
            _listed = true;
            WatchEmpty();
        }

        return Task.FromResult(Listing());
    }

    public Task<RoomFrontEnds> GetFrontEnds(CancellationToken cancellationToken) => Task.FromResult(Listing());

    public async Task<PresenceState?> ApplyPresence(string frontEndId, PresenceBatch batch)
    {
        if (batch.List)
        {
            await Add(frontEndId, batch.Listable, relist: false);
        }

        return batch.Changes.Length > 0 ? Presence().Apply(frontEndId, batch) : null;
    }

    public Task<PresenceState> GetPresence() => Task.FromResult(Presence().State());

    public Task RemovePresenceOf(string frontEndId)
    {
        _presence?.RemoveFrontEnd(frontEndId);
        return Task.CompletedTask;
    }

    public Task RemoveGonePresence(string frontEndId, long heldUpTo)
    {
        _presence?.RemoveGone(frontEndId, heldUpTo);
        return Task.CompletedTask;
    }

    /// <summary>The presence changed: the grain stays while it holds entries or diffs, and otherwise only while the room itself keeps it.</summary>
    internal void PresenceSettled()
    {
        if (_presence is { Busy: true })
        {
            KeepActive();
        }
        else if (!_pinned)
        {
            AllowCollection();
        }
    }

    /// <summary>The front ends listed, whole unless this activation may have lost its memory (made once per change).</summary>
    internal RoomFrontEnds Listing()
    {
        if (_incompleteUntil is { } until && time.GetTimestamp() >= until)
        {
            _incompleteUntil = null;
            _listing = null;
        }

        return _listing ??= new RoomFrontEnds([.. _frontEnds], Complete: _incompleteUntil is null);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        foreach (var frontEndId in _frontEnds)
        {
            holdings.ReleaseRoom(frontEndId, Name);
        }

        _presence?.Deactivated();

        // Collected with its delisting still due: delist now. Not when its silo stops: the directory shards
        // are stopping too, and the rooms are rebuilt elsewhere from the front ends. A stale entry is harmless
        // anyway: readers ask the front ends, and a later join of the room lists it again.
        if (_frontEnds.Count == 0 && _listed && reason.ReasonCode != DeactivationReasonCode.ShuttingDown)
        {
            await GrainFactory.ShardFor(Name).Remove(Name).WaitAsync(cancellationToken);
        }
    }

    /// <summary>The room just emptied: note when, and start the check unless it runs already (a room that empties again reuses it).</summary>
    private void WatchEmpty()
    {
        _emptiedAt = time.GetTimestamp();
        _emptyCheck ??= this.RegisterGrainTimer(CheckEmpty, new GrainTimerCreationOptions(GrainLimits.DelistEmptyRoomAfter, GrainLimits.DelistEmptyRoomAfter) { KeepAlive = true });
    }

    /// <summary>
    /// Once the room has been empty for <see cref="GrainLimits.DelistEmptyRoomAfter"/> without a break: delist it and give it back to
    /// the normal idle collection (an empty room costs nothing once collected). Occupied meanwhile: stop checking.
    /// </summary>
    private async Task CheckEmpty(CancellationToken cancellationToken)
    {
        if (_frontEnds.Count > 0 || time.GetElapsedTime(_emptiedAt) >= GrainLimits.DelistEmptyRoomAfter)
        {
            _emptyCheck?.Dispose();
            _emptyCheck = null;
        }

        if (_frontEnds.Count > 0 || _emptyCheck is not null)
        {
            return; // occupied again, or emptied again less than GrainLimits.DelistEmptyRoomAfter ago: the next tick looks again
        }

        if (silo.IsStopping)
        {
            return; // as in OnDeactivateAsync: the directory's shards stop too, or a later join lists the room again
        }

        if (_listed)
        {
            await GrainFactory.ShardFor(Name).Remove(Name);
            _listed = false;
            _delistChecked = true;
        }

        _pinned = false;
        PresenceSettled();
    }

    /// <summary>The room's presence, made on the first call about it: a room nobody tracks in costs nothing more.</summary>
    private PresenceSequencer Presence() => _presence ??= new PresenceSequencer(this, GrainFactory, time, healing, holdings, inProcess, diffClock, diffSender, _activatedAt, presenceLogger);
}
