using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration.Internal;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms;

/// <summary>Adds the room grains to an Orleans silo.</summary>
public static class RoomGrainsSiloBuilderExtensions
{
    /// <summary>
    /// Adds what the room grains need to a silo: a clock, the front ends hosted in this process (the embedded
    /// shape), and the sweeper of front ends that are gone with what it sweeps (docs/design.md, "Sweeping").
    /// <c>UseRoomsSilo</c> calls it; a host that builds its silo itself (a test cluster) calls it alone.
    /// </summary>
    public static ISiloBuilder AddRoomGrains(this ISiloBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<LocalFrontEnds>();
        builder.Services.TryAddSingleton<Membership.ClusterHealing>();
        builder.Services.TryAddSingleton<IHealWindow>(services => services.GetRequiredService<Membership.ClusterHealing>());
        builder.Services.TryAddSingleton<FrontEndHoldings>();
        builder.Services.TryAddSingleton<Presence.DiffClock>();
        builder.Services.TryAddSingleton<Presence.DiffSender>();
        if (!builder.Services.Any(d => d.ServiceType == typeof(SiloStopping)))
        {
            builder.Services.AddSingleton<SiloStopping>();
            builder.Services.AddFromExisting<ILifecycleParticipant<ISiloLifecycle>, SiloStopping>();
        }

        if (!builder.Services.Any(d => d.ServiceType == typeof(GoneFrontEndSweeper)))
        {
            builder.Services.AddSingleton<GoneFrontEndSweeper>();
            builder.Services.AddFromExisting<ILifecycleParticipant<ISiloLifecycle>, GoneFrontEndSweeper>();
        }

        return builder;
    }
}
