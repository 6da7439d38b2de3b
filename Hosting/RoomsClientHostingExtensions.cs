using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Rooms.Hosting;

namespace Orleans.Hosting;

/// <summary>Makes a front end an Orleans client of a rooms cluster of stand-alone silos.</summary>
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
    /// Makes this host an Orleans client of the rooms cluster that section <c>Orleans</c>
    /// (<see cref="ClusterHostingOptions"/>) names: its silos found in Redis (<see cref="ClusterHostingOptions.Redis"/>)
    /// or at <see cref="ClusterHostingOptions.Gateways"/>. The host starts its other services (the web server)
    /// meanwhile, so a front end answers its health checks while it waits for the cluster.
    /// </summary>
    public static IHostApplicationBuilder UseRoomsClient(this IHostApplicationBuilder builder)
    {
        var cluster = ClusterHostingOptions.Read(builder.Configuration);
        if (string.IsNullOrWhiteSpace(cluster.Redis) && cluster.Gateways.Length == 0)
        {
            throw new InvalidOperationException("Orleans:Redis is required for a client of the rooms cluster: the Redis connection string of the cluster's membership table (e.g. --Orleans:Redis=127.0.0.1:6379 or environment Orleans__Redis); or list the silos' gateways in Orleans:Gateways.");
        }

        builder.UseOrleansClient(client => client.ConfigureRoomsClient(cluster));

        // The client keeps trying until the cluster is there; meanwhile the web server runs and /readyz says no.
        builder.Services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);
        return builder;
    }

    /// <summary>
    /// The client half of <see cref="UseRoomsClient"/>, for hosts that build the client themselves: silos found in Redis (or at the listed gateways),
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

            // Orleans' own list from the same table, but not believing a table that Redis lost while it is written back.
            client.Services.RemoveAll<IGatewayListProvider>();
            client.Services.AddSingleton<IGatewayListProvider, MonotonicGatewayListProvider>();
            client.Services.TryAddSingleton(TimeProvider.System);
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
