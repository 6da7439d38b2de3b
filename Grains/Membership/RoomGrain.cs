using Orleans.Rooms.Directory;

namespace Orleans.Rooms.Membership;

/// <summary>
/// The members of one room, grouped by front end. Changed only by socket grains; it calls only the room
/// directory (when the room appears or empties), never a socket grain, which keeps the call graph acyclic.
/// The grouped snapshot handed to broadcasters is built once per change, not once per broadcast.
/// </summary>
[CollectionAgeLimit(Minutes = 2)] // only empty rooms are collected: pinned by Add, released by Remove
internal sealed class RoomGrain : Grain, IRoomGrain
{
    private static readonly TimeSpan Pinned = TimeSpan.FromDays(365);

    // Front ends with no members are removed, so the room is empty exactly when this is.
    private readonly Dictionary<string, HashSet<string>> _byFrontEnd = new(StringComparer.Ordinal);
    private bool _listed;
    private RoomMembers? _snapshot;

    private string Name => this.GetPrimaryKeyString();

    public async Task Add(string socketId, string frontEndId, CancellationToken cancellationToken)
    {
        if (!_byFrontEnd.TryGetValue(frontEndId, out var sockets))
        {
            sockets = new HashSet<string>(StringComparer.Ordinal);
            _byFrontEnd.Add(frontEndId, sockets);
        }

        if (!sockets.Add(socketId))
        {
            return;
        }

        _snapshot = null;
        if (_byFrontEnd.Count == 1 && sockets.Count == 1)
        {
            // Pin while it has members: the membership lives in memory and must outlive idleness.
            DelayDeactivation(Pinned);

            // A socket's own-id room is not listed (SPEC: Rooms() leaves own-id rooms out).
            if (socketId != Name)
            {
                await GrainFactory.ShardFor(Name).Add(Name);
                _listed = true;
            }
        }
    }

    public async Task Remove(string socketId, string frontEndId, CancellationToken cancellationToken)
    {
        if (!_byFrontEnd.TryGetValue(frontEndId, out var sockets) || !sockets.Remove(socketId))
        {
            return;
        }

        if (sockets.Count == 0)
        {
            _byFrontEnd.Remove(frontEndId);
        }

        _snapshot = null;
        if (_byFrontEnd.Count == 0)
        {
            if (_listed)
            {
                await GrainFactory.ShardFor(Name).Remove(Name);
                _listed = false;
            }

            // Back to the normal idle collection: an empty room costs nothing once collected, and a
            // room that is joined again soon (join/leave loops) is not torn down and rebuilt each time.
            DelayDeactivation(TimeSpan.FromSeconds(-1));
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
