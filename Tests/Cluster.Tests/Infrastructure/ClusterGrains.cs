using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// An Orleans client of the test's own on a scripted cluster, for reading the grains themselves (a room grain's
/// front ends, a socket grain's front end) rather than what a front end makes of them: a front end counts one
/// it cannot reach as holding nothing, so its answers cannot tell a purge from a time-out.
/// </summary>
public sealed class ClusterGrains(IHost host) : IAsyncDisposable
{
    private static readonly TimeSpan ConnectLimit = TimeSpan.FromSeconds(20);

    public IGrainFactory Grains => host.Services.GetRequiredService<IGrainFactory>();

    public static async Task<ClusterGrains> ConnectAsync(string redis)
    {
        // A bare host: the default one would read the appsettings.json that WebFrontend copies beside the tests.
        var host = new HostBuilder()
            .UseOrleansClient(client =>
            {
                client.UseRedisClustering(redis);

                // scripts/cluster's cluster id; the service id is the default every host uses.
                client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("rooms", "orleans-rooms"));
            })
            .Build();
        try
        {
            using var deadline = new CancellationTokenSource(ConnectLimit);
            await host.StartAsync(deadline.Token);
            return new ClusterGrains(host);
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var deadline = new CancellationTokenSource(ConnectLimit);
        await host.StopAsync(deadline.Token);
        host.Dispose();
    }
}
