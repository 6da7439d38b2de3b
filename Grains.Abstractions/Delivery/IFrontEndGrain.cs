using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// One front end inside the cluster, keyed by front end id. The front end renews its lease here; the grain
/// keeps the ids of the front end's sockets, registers and forgets their locations, passes on what others ask
/// of the front end (deliveries, changes, reads), and when the lease lapses (the front end died without a
/// goodbye) takes the front end out of every room and forgets its sockets.
/// </summary>
/// <remarks>
/// Calls go front-end grain → observer, socket grain, front-end rooms grain, registry; the observer calls only
/// the front-end rooms grain, which calls only room grains. Nothing calls back, so nothing can deadlock.
/// </remarks>
[Alias("rooms.IFrontEndGrain")]
public interface IFrontEndGrain : IGrainWithStringKey
{
    /// <summary>Attaches or renews the front end's observer; must be repeated within <paramref name="lease"/>.</summary>
    [Alias("Renew")]
    Task<LeaseState> Renew(IFrontEndObserver observer, TimeSpan lease);

    /// <summary>Tracks these sockets of the front end and records their location again (after <see cref="LeaseState.Incarnation"/> changed or a silo was lost).</summary>
    [Alias("RelistSockets")]
    Task RelistSockets(string[] socketIds);

    /// <summary>Tracks a new socket of this front end and records its location.</summary>
    [Alias("Connect")]
    Task Connect(string socketId);

    /// <summary>Forgets a socket of this front end and its location; idempotent.</summary>
    [Alias("Disconnect")]
    Task Disconnect(string socketId);

    /// <summary>Asks the front end whether it holds <paramref name="socketId"/>; if so, records its location again.</summary>
    [Alias("Relist")]
    Task<bool> Relist(string socketId);

    /// <summary>Takes the front end out of every room, forgets its sockets, leaves the registry and forgets the observer (graceful stop).</summary>
    [Alias("Detach")]
    Task Detach();

    /// <summary>Passes the batch to the front end; completes once the front end has queued it for its sockets. Dropped when the front end is gone.</summary>
    [Alias("Deliver")]
    Task Deliver(DeliveryBatch batch);

    /// <summary>See <see cref="IFrontEndObserver.Change"/>; false too when the front end is gone.</summary>
    [Alias("Change")]
    Task<bool> Change(string socketId, MembershipChange change);

    /// <summary>See <see cref="IFrontEndObserver.ChangeMembers"/>; nothing when the front end is gone.</summary>
    [Alias("ChangeMembers")]
    Task<MembersChangeOutcome> ChangeMembers(string room, MembershipChange change);

    /// <summary>See <see cref="IFrontEndObserver.GetMembers"/>; none when the front end is gone or does not answer.</summary>
    [Alias("GetMembers")]
    Task<string[]> GetMembers(string room);

    /// <summary>See <see cref="IFrontEndObserver.GetSocketRooms"/>; null when the front end is gone.</summary>
    [Alias("GetSocketRooms")]
    Task<string[]?> GetSocketRooms(string socketId);

    /// <summary>See <see cref="IFrontEndObserver.Occupied"/>; none when the front end is gone or does not answer.</summary>
    [Alias("Occupied")]
    Task<string[]> Occupied(string[] rooms);
}

/// <summary>What a renewal tells the front end.</summary>
/// <param name="Incarnation">Changes whenever the grain lost its memory (its silo died) or purged the front end; the front end then re-sends its sockets and rooms.</param>
/// <param name="DepartingSilos">
/// The silos leaving or gone from the cluster, each with how far it is ("leaving" while it shuts down,
/// "dead" once gone). When an entry appears, grains (and the memberships they held) may have been lost,
/// and the front end lists its sockets and rooms again: once when a silo starts leaving, once when it is gone.
/// </param>
[GenerateSerializer, Immutable, Alias("rooms.LeaseState")]
public sealed record LeaseState([property: Id(0)] Guid Incarnation, [property: Id(1)] string[] DepartingSilos);

/// <summary>How often front ends renew at the slowest; a grain that lost its memory hears from each front end within this.</summary>
public static class FrontEndRenewal
{
    public static readonly TimeSpan MaxPeriod = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The list of live front ends (for blasts and for finding a socket). Keyed by <see cref="Key"/>. Each entry
/// holds for the lease its front end's grain registered it with and is renewed with that lease, so a front end
/// whose grain was lost (its silo died) at the time the front end died, and which nobody unregisters, drops
/// out when its lease passes.
/// </summary>
[Alias("rooms.IFrontEndRegistryGrain")]
public interface IFrontEndRegistryGrain : IGrainWithIntegerKey
{
    public const long Key = 0;

    /// <summary>Lists the front end until <paramref name="lease"/> from now, unless registered again meanwhile.</summary>
    [Alias("Register")]
    Task Register(string frontEndId, TimeSpan lease);

    [Alias("Unregister")]
    Task Unregister(string frontEndId);

    [Alias("GetFrontEnds")]
    Task<string[]> GetFrontEnds();
}
