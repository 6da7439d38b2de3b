using Orleans.Placement;
using Orleans.Rooms.Directory;

namespace Orleans.Rooms.Membership;

/// <summary>
/// The members of one room, grouped by front end. Changed only by socket grains; it calls only the room
/// directory (when the room appears or empties), never a socket grain, which keeps the call graph acyclic.
/// The grouped snapshot handed to broadcasters is built once per change, not once per broadcast.
/// </summary>
[CollectionAgeLimit(Minutes = 2)] // only empty rooms are collected: pinned by Add, released by Remove
[Immovable] // its state lives in memory only: a migration (rebalancer, repartitioner) would lose it
internal sealed class RoomGrain(TimeProvider time) : MembershipGrain, IRoomGrain
{
    private static readonly TimeSpan RelistAtMostEvery = TimeSpan.FromSeconds(1);

    // Front ends with no members are removed, so the room is empty exactly when this is.
    private readonly Dictionary<string, HashSet<string>> _byFrontEnd = new(StringComparer.Ordinal);
    private RoomMembers? _snapshot;
    private bool _delistChecked;
    private DateTimeOffset _listedAt = DateTimeOffset.MinValue;

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

        var first = added && _byFrontEnd.Count == 1 && sockets.Count == 1;
        if (first)
        {
            // Pin while it has members: the membership lives in memory and must outlive idleness.
            KeepActive();
        }

        // A rebuild re-lists the room too, in case the directory shard was the part that was lost; it sends
        // one Add per member, so re-listing is limited to one shard call a second.
        if (Listable(socketId) && (first || (relist && time.GetUtcNow() - _listedAt >= RelistAtMostEvery)))
        {
            await GrainFactory.ShardFor(Name).Add(Name);
            _listedAt = time.GetUtcNow();
            _delistChecked = false;
        }
    }

    public async Task Remove(string socketId, string frontEndId)
    {
        if (!_byFrontEnd.TryGetValue(frontEndId, out var sockets) || !sockets.Remove(socketId))
        {
            if (_byFrontEnd.Count == 0 && !_delistChecked && Listable(socketId))
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
            if (Listable(socketId))
            {
                await GrainFactory.ShardFor(Name).Remove(Name);
                _delistChecked = true;
            }

            // Back to the normal idle collection: an empty room costs nothing once collected, and a
            // room that is joined again soon (join/leave loops) is not torn down and rebuilt each time.
            AllowCollection();
        }
    }

    public Task<RoomMembers> GetMembers(CancellationToken cancellationToken)
    {
        _snapshot ??= _byFrontEnd.Count == 0
            ? RoomMembers.Empty
            : new RoomMembers(_byFrontEnd.Select(kv => new FrontEndMembers(kv.Key, [.. kv.Value])).ToArray());
        return Task.FromResult(_snapshot);
    }
}
