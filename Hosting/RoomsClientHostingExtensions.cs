using System.Net;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Rooms.Hosting;

namespace Orleans.Hosting;

public static partial class RoomsClientHostingExtensions
{
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a call waits for its answer. Membership calls answer in milliseconds; one whose message was
    /// lost with a silo or a gateway would otherwise hold its caller for Orleans' default 30 s. The room
    /// service retries such a time-out (its changes are idempotent), so a lost message costs seconds.
    /// </summary>
    private static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Makes this front end an Orleans client of the cluster: silos found in Redis (or at the listed gateways),
    /// connecting again and again until the cluster is there, however late it starts. Once connected, the
    /// client moves to another gateway by itself when the one it uses goes.
    /// </summary>
    public static IClientBuilder ConfigureRoomsClient(this IClientBuilder client, ClusterHostingOptions cluster)
    {
        if (cluster.Gateways.Length > 0)
        {
            client.UseStaticClustering([.. cluster.Gateways.Select(IPEndPoint.Parse)]);
        }
        else
        {
            client.UseRedisClustering(cluster.Redis!);
        }

        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = ResponseTimeout);
        client.Services.AddOrleansLogLevels();
        if (cluster.EnableDistributedTracing is null)
        {
            client.AddActivityPropagation();
        }

        client.UseConnectionRetryFilter(async (exception, cancellationToken) =>
        {
            await Task.Delay(ReconnectDelay, cancellationToken);
            return !cancellationToken.IsCancellationRequested;
        });
        return client;
    }
}
