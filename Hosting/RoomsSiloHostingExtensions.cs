using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Rooms;
using Orleans.Rooms.Hosting;

namespace Orleans.Hosting;

/// <summary>Makes a host a silo of the rooms cluster: a stand-alone silo, or one embedded in the front end's app.</summary>
public static class RoomsSiloHostingExtensions
{
    /// <summary>
    /// Makes this host a silo of the rooms cluster as section <c>Orleans</c> (<see cref="ClusterHostingOptions"/>)
    /// describes it: Redis clustering when <see cref="ClusterHostingOptions.Redis"/> is set, else a one-silo
    /// localhost cluster; plus the room grains. The one place every silo host (stand-alone and embedded) is set up.
    /// </summary>
    public static IHostApplicationBuilder UseRoomsSilo(this IHostApplicationBuilder builder)
    {
        var cluster = ClusterHostingOptions.Read(builder.Configuration);
        builder.UseOrleans(silo => silo.ConfigureRoomsSilo(cluster));
        return builder;
    }

    /// <summary>The silo half of <see cref="UseRoomsSilo"/>, for hosts that build the silo themselves (tests).</summary>
    public static ISiloBuilder ConfigureRoomsSilo(this ISiloBuilder silo, ClusterHostingOptions cluster)
    {
        if (string.IsNullOrWhiteSpace(cluster.Redis))
        {
            silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, null, cluster.ServiceId, cluster.ClusterId);
        }
        else
        {
            silo.UseRedisClustering(cluster.Redis);
            silo.AddMembershipTableGuard();
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            silo.Configure<EndpointOptions>(o =>
            {
                o.SiloPort = cluster.SiloPort;
                o.GatewayPort = cluster.GatewayPort;

                // An advertised address is also the one listened on (loopback stays loopback); without one the
                // silo listens on every interface and advertises its first non-loopback address (containers).
                var listen = IPAddress.Any;
                if (!string.IsNullOrEmpty(cluster.AdvertisedIPAddress))
                {
                    o.AdvertisedIPAddress = listen = IPAddress.Parse(cluster.AdvertisedIPAddress);
                }

                o.SiloListeningEndpoint = new IPEndPoint(listen, cluster.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(listen, cluster.GatewayPort);
            });

            // After the settings above: with no address set, the pod's own (POD_IP) is advertised.
            if (cluster.UsesKubernetesHosting(Environment.GetEnvironmentVariable))
            {
                silo.UseKubernetesHosting();
            }
        }

        if (cluster.EnableDistributedTracing is null)
        {
            silo.AddActivityPropagation();
        }

        silo.AddRoomGrains();
        silo.Services.AddOrleansLogLevels();

        // A dead silo's grains (and the memberships they held) come back only once the cluster declares it
        // dead. Orleans probes every 5 s by default, which took 10-15 s on a busy 2-core machine; 3 s probes
        // (adaptive between 1.5 and 12 s) bring that under the 10 s the service promises.
        silo.Configure<ClusterMembershipOptions>(o => o.ProbeTimeout = TimeSpan.FromSeconds(3));

        // The strongly consistent directory: when a silo dies, activations on the others keep their
        // directory entries (the default directory loses the dead silo's share of entries, and the next
        // call makes a second, empty activation of a grain that is alive elsewhere).
#pragma warning disable ORLEANSEXP003 // experimental in Orleans 10; the test cluster uses it as well
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        return silo;
    }
}
