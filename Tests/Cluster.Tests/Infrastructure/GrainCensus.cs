using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// Which silo holds which grains, asked of the cluster itself (<see cref="IManagementGrain"/>) through an
/// Orleans client of the test's own. Placement decides where grains live, so a test that kills "a silo"
/// picks the one holding the most membership grains: a kill that hits none of them would prove nothing.
/// </summary>
public static class GrainCensus
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    /// <summary>Activations per silo (by its silo-to-silo port), counted by grain class name.</summary>
    public static async Task<Dictionary<int, Dictionary<string, int>>> TakeAsync(string redis)
    {
        using var deadline = new CancellationTokenSource(Limit);
        // A bare host: the default one would read the appsettings.json that WebFrontend copies beside the tests.
        using var host = new HostBuilder()
            .UseOrleansClient(client =>
            {
                client.UseRedisClustering(redis);

                // scripts/cluster's cluster id; the service id is the default every host uses.
                client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("rooms", "orleans-rooms"));
            })
            .Build();
        await host.StartAsync(deadline.Token);
        try
        {
            var management = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
            var activations = await management.GetDetailedGrainStatistics().WaitAsync(deadline.Token);
            return activations
                .GroupBy(a => a.SiloAddress.Endpoint.Port)
                .ToDictionary(
                    silo => silo.Key,
                    silo => silo.GroupBy(a => ClassName(a.GrainType)).ToDictionary(type => type.Key, type => type.Count()));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static string ClassName(string grainType)
    {
        var name = grainType.Split(',')[0];
        return name[(name.LastIndexOf('.') + 1)..];
    }
}
