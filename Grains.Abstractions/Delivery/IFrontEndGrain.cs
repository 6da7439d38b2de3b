namespace Orleans.Rooms.Delivery;

/// <summary>
/// One front end inside the cluster, keyed by front end id. The front end renews its lease here; the grain
/// keeps the ids of the front end's sockets, connects and disconnects them, and purges them from every
/// room when the lease lapses (the front end died without a goodbye). Senders hand it batches.
/// </summary>
/// <remarks>Calls go front-end grain → socket grain → room grain, and front-end grain → registry; never back.</remarks>
[Alias("rooms.IFrontEndGrain")]
public interface IFrontEndGrain : IGrainWithStringKey
{
    /// <summary>Attaches or renews the front end's observer; must be repeated within <paramref name="lease"/>.</summary>
    [Alias("Renew")]
    Task<LeaseState> Renew(IFrontEndObserver observer, TimeSpan lease);

    /// <summary>Adds to the grain's list of this front end's sockets (sent again after <see cref="LeaseState.Incarnation"/> changed).</summary>
    [Alias("TrackSockets")]
    Task TrackSockets(string[] socketIds);

    /// <summary>Registers a socket of this front end in the cluster, in its own-id room.</summary>
    [Alias("Connect")]
    Task Connect(string socketId);

    /// <summary>Removes a socket of this front end from every room and forgets it; idempotent.</summary>
    [Alias("Disconnect")]
    Task Disconnect(string socketId);

    /// <summary>Asks the front end whether it holds <paramref name="socketId"/>; if so, restores its grain from the front end's record.</summary>
    [Alias("Recover")]
    Task<bool> Recover(string socketId);

    /// <summary>Disconnects every remaining socket, leaves the registry and forgets the observer (graceful stop).</summary>
    [Alias("Detach")]
    Task Detach();

    /// <summary>Passes the batch to the front end; completes once the front end has queued it for its sockets.</summary>
    [Alias("Deliver")]
    Task Deliver(DeliveryBatch batch);
}

/// <summary>What a renewal tells the front end.</summary>
/// <param name="Incarnation">Changes whenever the grain lost its memory (its silo died) or purged the front end; the front end then re-sends its sockets.</param>
/// <param name="DepartingSilos">
/// The silos leaving or gone from the cluster, each with how far it is ("leaving" while it shuts down,
/// "dead" once gone). When an entry appears, grains (and the memberships they held) may have been lost,
/// and the front end rebuilds its sockets' memberships: once when a silo starts leaving, once when it is gone.
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
