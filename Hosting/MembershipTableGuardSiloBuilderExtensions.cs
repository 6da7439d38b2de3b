using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Clustering.Redis;
using Orleans.Configuration.Internal;

namespace Orleans.Rooms.Hosting;

/// <summary>Adds <see cref="MembershipTableGuard"/> to a silo.</summary>
internal static class MembershipTableGuardSiloBuilderExtensions
{
    /// <summary>
    /// The guard as a silo lifecycle participant, with its settings bound from
    /// <see cref="MembershipTableGuardOptions.SectionName"/> and validated at start-up (a bad one stops the silo
    /// naming it).
    /// </summary>
    public static ISiloBuilder AddMembershipTableGuard(this ISiloBuilder silo)
    {
        silo.Services.AddSelfValidatingOptions<MembershipTableGuardOptions>(MembershipTableGuardOptions.SectionName);
        silo.Services.AddSingleton<MembershipTableGuard>();
        silo.Services.AddFromExisting<ILifecycleParticipant<ISiloLifecycle>, MembershipTableGuard>();
        return silo;
    }
}
