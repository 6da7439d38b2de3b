using Orleans.Rooms.Delivery;
using Orleans.Rooms.Directory;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Presence;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// Every call this front end makes into the cluster, and nothing else: the one door through which the front
/// end reaches grains (<see cref="ClusterDoor"/>), so that retries, time-outs and the grain keys live in one
/// place, and a test can stand in for the whole cluster (docs/design.md, "One door").
/// </summary>
/// <remarks>
/// Idempotent calls are retried inside the door while the cluster is healing (a silo going away, a message it
/// could not take), for at most <see cref="FrontEndOptions.ClusterRetryFor"/>; what still fails is thrown to the caller.
/// </remarks>
internal interface IClusterDoor
{
    /// <summary>Attaches or renews this front end's observer; one attempt, bounded by <paramref name="timeout"/>.</summary>
    Task<LeaseState> RenewAsync(IFrontEndObserver observer, TimeSpan lease, TimeSpan timeout);

    /// <summary>Takes this front end out of the cluster (a graceful stop); one attempt, bounded by <paramref name="timeout"/>.</summary>
    Task DetachAsync(TimeSpan timeout);

    /// <summary>Forgets a socket of this front end and its recorded location.</summary>
    Task DisconnectAsync(string socketId);

    /// <summary>Records the location of these sockets of this front end (looked for by another front end, or again: see <see cref="FrontEndMembership.RelistAllAsync"/>).</summary>
    Task RelistSocketsAsync(string[] socketIds);

    /// <summary>Keeps this front end's resumable sockets' records and events in the cluster (<see cref="IFrontEndGrain.Commit"/>).</summary>
    Task CommitAsync(FrontEndJournal journal);

    /// <summary>Tracks a socket that moved here from <paramref name="fromFrontEnd"/> and records its location here (<see cref="IFrontEndGrain.Adopt"/>).</summary>
    Task AdoptAsync(string socketId, string fromFrontEnd);

    /// <summary>Lists this front end in the rooms (see <see cref="IFrontEndRoomsGrain.Register"/>).</summary>
    Task ListAsync(string[] rooms, bool listable, bool relist);

    /// <summary>Delists this front end from the rooms.</summary>
    Task DelistAsync(string[] rooms);

    /// <summary>This front end's presence changes in a room (see <see cref="IFrontEndRoomsGrain.Presence"/>); the state when asked for.</summary>
    Task<PresenceState?> PresenceAsync(string room, PresenceBatch batch);

    /// <summary>A room's presence state, every acknowledged change in it (<see cref="IRoomGrain.GetPresence"/>).</summary>
    Task<PresenceState> PresenceStateAsync(string room, CancellationToken cancellationToken);

    /// <summary>The front ends a room lists as holding members, and whether that list is whole.</summary>
    Task<RoomFrontEnds> FrontEndsOfAsync(string room, CancellationToken cancellationToken);

    /// <summary>The front ends a room lists, asked for a room the directory lists (see <see cref="IRoomGrain.GetListedFrontEnds"/>).</summary>
    Task<RoomFrontEnds> ListedFrontEndsOfAsync(string room, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="count"/> rooms of one directory shard after <paramref name="after"/>, in ordinal order.</summary>
    Task<RoomDirectoryPage> DirectoryPageAsync(int shard, string? after, int count, CancellationToken cancellationToken);

    /// <summary>The ids of every attached front end.</summary>
    Task<string[]> FrontEndsAsync(CancellationToken cancellationToken);

    /// <summary>Whether the front end is attached (the registry: a listed one answers at once, even while the registry is young).</summary>
    Task<bool> IsAttachedAsync(string frontEndId);

    /// <summary>The front end that holds a socket, from its socket grain; throws <see cref="SocketNotFoundException"/> when it knows none.</summary>
    Task<string> LocateAsync(string socketId);

    /// <summary>Another front end, reached through its front-end grain.</summary>
    IFrontEnd FrontEnd(string frontEndId);
}
