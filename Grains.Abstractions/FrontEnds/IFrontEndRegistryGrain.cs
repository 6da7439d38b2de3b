using Orleans.Rooms.Membership;

namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// The list of live front ends (for blasts and for finding a socket). Keyed by <see cref="Key"/>. Each entry
/// holds for the lease its front end's grain registered it with and is renewed with that lease, so a front end
/// whose grain was lost (its silo died) at the time the front end died, and which nobody unregisters, drops
/// out when its lease passes.
/// </summary>
[Alias("rooms.IFrontEndRegistryGrain")]
internal interface IFrontEndRegistryGrain : IGrainWithIntegerKey
{
    public const long Key = 0;

    /// <summary>Lists the front end until <paramref name="lease"/> from now, unless registered again meanwhile.</summary>
    [Alias("Register")]
    Task Register(string frontEndId, TimeSpan lease);

    [Alias("Unregister")]
    Task Unregister(string frontEndId);

    [Alias("GetFrontEnds")]
    Task<string[]> GetFrontEnds();

    /// <summary>
    /// Whether the front end is listed: true at once when it is; a "no" from a registry just activated waits, as
    /// <see cref="GetFrontEnds"/> does, until every live front end has had time to register again.
    /// </summary>
    [Alias("IsAttached")]
    Task<bool> IsAttached(string frontEndId);
}
