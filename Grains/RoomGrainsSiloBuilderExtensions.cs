using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms;

public static class RoomGrainsSiloBuilderExtensions
{
    /// <summary>
    /// Adds what the room grains need to a silo: a clock, and the front ends hosted in this process (the embedded
    /// shape). <c>UseRoomsSilo</c> calls it; a host that builds its silo itself (a test cluster) calls it alone.
    /// </summary>
    public static ISiloBuilder AddRoomGrains(this ISiloBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<LocalFrontEnds>();
        builder.Services.TryAddSingleton<Membership.ClusterHealing>();
        return builder;
    }
}
