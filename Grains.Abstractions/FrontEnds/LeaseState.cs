using Orleans.Rooms.Membership;

namespace Orleans.Rooms.FrontEnds;

/// <summary>What a renewal tells the front end.</summary>
/// <param name="Incarnation">Changes whenever the grain lost its memory (its silo died) or purged the front end; the front end then re-sends its sockets and rooms.</param>
/// <param name="DepartingSilos">
/// The silos leaving or gone from the cluster, each with how far it is ("leaving" while it shuts down,
/// "dead" once gone). When an entry appears, grains (and the memberships they held) may have been lost,
/// and the front end lists its sockets and rooms again: once when a silo starts leaving, once when it is gone.
/// </param>
[GenerateSerializer, Immutable, Alias("rooms.LeaseState")]
internal sealed record LeaseState([property: Id(0)] Guid Incarnation, [property: Id(1)] string[] DepartingSilos);
