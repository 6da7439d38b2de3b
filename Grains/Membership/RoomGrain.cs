using Orleans.Placement;
using Orleans.Rooms.Directory;

namespace Orleans.Rooms.Membership;

/// <summary>
/// The members of one room, grouped by front end. Changed only by socket grains; it calls only the room
/// directory (when the room appears or empties), never a socket grain, which keeps the call graph acyclic.
/// The grouped snapshot handed to broadcasters is built once per change, not once per broadcast.
/// </summary>
/// <remarks>
/// Listing is synchronous, delisting is not: a room that empties stays listed (and pinned) until it has been
/// empty for <see cref="DelistAfter"/>, checked by one timer that runs only while the room is empty. A room
/// joined and left in a loop (a chat user who comes and goes) then costs no directory call, no timer and no
/// change of its collection deadline per join and leave: only its member set changes. Readers of the list ask
/// each listed room whether it has members (<see cref="HasMembers"/>), so the list they see stays exact.
/// </remarks>
[CollectionAgeLimit(Minutes = 2)] // only empty rooms are collected: pinned by Add, released by Remove
[Immovable] // its state lives in memory only: a migration (rebalancer, repartitioner) would lose it
[PreferLocalPlacement] // first called by a member's socket grain: a room of one socket's making lives next to it
internal sealed class RoomGrain(TimeProvider time) : MembershipGrain, IRoomGrain
{
    private static readonly TimeSpan RelistAtMostEvery = TimeSpan.FromSeconds(1);

    /// <summary>How long an emptied room stays listed before it is delisted (if still empty).</summary>
    internal static readonly TimeSpan DelistAfter = TimeSpan.FromSeconds(2);

    // Front ends with no members are removed, so the room is empty exactly when this is.
    private readonly Dictionary<string, HashSet<string>> _byFrontEnd = new(StringComparer.Ordinal);
    private RoomMembers? _snapshot;
    private bool _listed;
    private bool _delistChecked;
    private DateTimeOffset _listedAt = DateTimeOffset.MinValue;
    private bool _pinned;
    private long _emptiedAt;
    private IGrainTimer? _emptyCheck;

    private string Name => this.GetPrimaryKeyString();

    // A socket's own-id room is not listed (SPEC: Rooms() leaves own-id rooms out).
    private bool Listable(string socketId) => socketId != Name;

    public async Task Add(string socketId, string frontEndId, bool relist)
    {
        if (!_byFrontEnd.TryGetValue(frontEndId, out var sockets))
        {
            sockets = new HashSet<string>(StringComparer.Ordinal);
            _byFrontEnd.Add(frontEndId, sockets);
        }

        var added = sockets.Add(socketId);
        if (added)
        {
            _snapshot = null;
        }

        if (!_pinned)
        {
            // Pinned while it has members (the membership lives in memory and must outlive idleness), and
            // until it has been empty for a while.
            KeepActive();
            _pinned = true;
        }

        // A rebuild re-lists the room too, in case the directory shard was the part that was lost; it sends
        // one Add per member, so re-listing is limited to one shard call a second.
        if (Listable(socketId) && (!_listed || (relist && time.GetUtcNow() - _listedAt >= RelistAtMostEvery)))
        {
            await GrainFactory.ShardFor(Name).Add(Name);
            _listed = true;
            _listedAt = time.GetUtcNow();
            _delistChecked = false;
        }
    }

    public async Task Remove(string socketId, string frontEndId)
    {
        if (!_byFrontEnd.TryGetValue(frontEndId, out var sockets) || !sockets.Remove(socketId))
        {
            if (_byFrontEnd.Count == 0 && !_listed && !_delistChecked && Listable(socketId))
            {
                // An empty activation asked to remove a member: it may have lost its state along with a silo
                // while the directory still lists the room. Delist once (a rebuild lists it again if needed).
                await GrainFactory.ShardFor(Name).Remove(Name);
                _delistChecked = true;
            }

            return;
        }

        if (sockets.Count == 0)
        {
            _byFrontEnd.Remove(frontEndId);
        }

        _snapshot = null;
        if (_byFrontEnd.Count == 0)
        {
            WatchEmpty();
        }
    }

    public Task<bool> HasMembers()
    {
        if (_byFrontEnd.Count == 0 && !_listed && !_delistChecked)
        {
            // Asked because the directory lists it, yet this activation never had members: the entry outlived
            // the room (its silo went). Delist it in a moment, unless the room is joined again meanwhile.
            _listed = true;
            WatchEmpty();
        }

        return Task.FromResult(_byFrontEnd.Count > 0);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Collected with its delisting still due: delist now. Not when its silo stops: the directory shards
        // are stopping too, and the rooms are rebuilt elsewhere from the front ends. A stale entry is harmless
        // anyway: readers check HasMembers, and a later join of the room lists it again.
        if (_byFrontEnd.Count == 0 && _listed && reason.ReasonCode != DeactivationReasonCode.ShuttingDown)
        {
            await GrainFactory.ShardFor(Name).Remove(Name).WaitAsync(cancellationToken);
        }
    }

    /// <summary>The room just emptied: note when, and start the check unless it runs already (a loop of joins and leaves reuses it).</summary>
    private void WatchEmpty()
    {
        _emptiedAt = time.GetTimestamp();
        _emptyCheck ??= this.RegisterGrainTimer(CheckEmpty, new GrainTimerCreationOptions(DelistAfter, DelistAfter) { KeepAlive = true });
    }

    /// <summary>
    /// Once the room has been empty for <see cref="DelistAfter"/> without a break: delist it and give it back to
    /// the normal idle collection (an empty room costs nothing once collected). Joined meanwhile: stop checking.
    /// </summary>
    private async Task CheckEmpty(CancellationToken cancellationToken)
    {
        if (_byFrontEnd.Count > 0 || time.GetElapsedTime(_emptiedAt) >= DelistAfter)
        {
            _emptyCheck?.Dispose();
            _emptyCheck = null;
        }

        if (_byFrontEnd.Count > 0 || _emptyCheck is not null)
        {
            return; // occupied again, or emptied again less than DelistAfter ago: the next tick looks again
        }

        if (_listed)
        {
            await GrainFactory.ShardFor(Name).Remove(Name);
            _listed = false;
            _delistChecked = true;
        }

        AllowCollection();
        _pinned = false;
    }

    public Task<RoomMembers> GetMembers(CancellationToken cancellationToken)
    {
        _snapshot ??= _byFrontEnd.Count == 0
            ? RoomMembers.Empty
            : new RoomMembers(_byFrontEnd.Select(kv => new FrontEndMembers(kv.Key, [.. kv.Value])).ToArray());
        return Task.FromResult(_snapshot);
    }
}
