using System.Net;
using Orleans.Hosting.Kubernetes;

namespace Orleans.Rooms.Hosting;

/// <summary>
/// Where the cluster is and how this process joins it, bound from section <c>Orleans</c>. One type, one set
/// of defaults, for the stand-alone silo, the embedded silo and the front end as a client.
/// </summary>
public sealed class ClusterHostingOptions
{
    /// <summary>The configuration section these settings are bound from: <c>Orleans</c>.</summary>
    public const string SectionName = "Orleans";

    /// <summary>Front ends only: <see cref="ClusterRole.Embedded"/> (default) or <see cref="ClusterRole.Client"/>.</summary>
    public ClusterRole Role { get; set; } = ClusterRole.Embedded;

    /// <summary>
    /// StackExchange.Redis connection string of the cluster's membership table, e.g. <c>127.0.0.1:6379</c>.
    /// Required for stand-alone silos and for front ends in the <see cref="ClusterRole.Client"/> role.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Front ends in the <see cref="ClusterRole.Client"/> role: silo gateways (<c>host:port</c>) to connect to
    /// instead of finding them in Redis (a fixed set of silos, or tests).
    /// </summary>
    public string[] Gateways { get; set; } = [];

    /// <summary>The Orleans cluster id: silos and clients of one cluster share it.</summary>
    public string ClusterId { get; set; } = "rooms";

    /// <summary>The Orleans service id, the same across deployments of the service.</summary>
    public string ServiceId { get; set; } = "orleans-rooms";

    /// <summary>Silo-to-silo port of a silo.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port on which a silo accepts clients (front ends).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos and clients use to reach this silo; unset: loopback when embedded, else the first non-loopback address.</summary>
    public string? AdvertisedIPAddress { get; set; }

    /// <summary>Silos on Redis clustering: whether they use Orleans' Kubernetes hosting (<see cref="KubernetesHosting"/>).</summary>
    public KubernetesHosting Kubernetes { get; set; } = KubernetesHosting.Auto;

    /// <summary>
    /// Orleans' own setting, which Orleans reads too: <c>true</c> and Orleans adds its activity propagation itself;
    /// unset, the rooms hosts add it (grain calls carry the trace of the request that made them); <c>false</c>, off.
    /// </summary>
    public bool? EnableDistributedTracing { get; set; }

    /// <summary>Whether a silo on Redis clustering uses Orleans' Kubernetes hosting, given the process's environment.</summary>
    public bool UsesKubernetesHosting(Func<string, string?> environment) => Kubernetes switch
    {
        KubernetesHosting.Enabled => true,
        KubernetesHosting.Disabled => false,
        _ => !string.IsNullOrEmpty(environment("KUBERNETES_SERVICE_HOST")) && !string.IsNullOrEmpty(environment(KubernetesHostingOptions.PodNameEnvironmentVariable)),
    };

    /// <summary>The first problem with these settings, naming the setting, or null when they are valid.</summary>
    public string? Validate()
    {
        if (!Enum.IsDefined(Role))
        {
            return $"Orleans:Role must be Embedded or Client (was {Role}).";
        }

        if (!Enum.IsDefined(Kubernetes))
        {
            return $"Orleans:Kubernetes must be Auto, Enabled or Disabled (was {Kubernetes}).";
        }

        if (Kubernetes == KubernetesHosting.Enabled && string.IsNullOrWhiteSpace(Redis))
        {
            return "Orleans:Kubernetes is Enabled, which needs Orleans:Redis: Kubernetes hosting works beside the cluster's membership table, it does not replace it.";
        }

        if (Role == ClusterRole.Client && string.IsNullOrWhiteSpace(Redis) && Gateways.Length == 0)
        {
            return "Orleans:Redis is required when Orleans:Role is Client: the Redis connection string of the cluster (e.g. 127.0.0.1:6379); or list the silos' gateways in Orleans:Gateways.";
        }

        foreach (var gateway in Gateways)
        {
            if (!IPEndPoint.TryParse(gateway, out var endpoint) || endpoint.Port == 0)
            {
                return $"Orleans:Gateways must list IP:port endpoints such as 127.0.0.1:30000 (was '{gateway}').";
            }
        }

        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            return "Orleans:ClusterId must not be empty.";
        }

        if (string.IsNullOrWhiteSpace(ServiceId))
        {
            return "Orleans:ServiceId must not be empty.";
        }

        if (SiloPort is < 1 or > 65535)
        {
            return $"Orleans:SiloPort must be a port number from 1 to 65535 (was {SiloPort}).";
        }

        if (GatewayPort is < 1 or > 65535)
        {
            return $"Orleans:GatewayPort must be a port number from 1 to 65535 (was {GatewayPort}).";
        }

        if (SiloPort == GatewayPort)
        {
            return $"Orleans:SiloPort and Orleans:GatewayPort must differ (both were {SiloPort}).";
        }

        if (!string.IsNullOrEmpty(AdvertisedIPAddress) && !IPAddress.TryParse(AdvertisedIPAddress, out _))
        {
            return $"Orleans:AdvertisedIPAddress must be an IP address (was '{AdvertisedIPAddress}').";
        }

        return null;
    }

    /// <summary>Reads and validates the section; throws naming the bad setting. For use while the host is being built.</summary>
    public static ClusterHostingOptions Read(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        var options = new ClusterHostingOptions();
        Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(configuration.GetSection(SectionName), options);
        if (options.Validate() is { } error)
        {
            throw new InvalidOperationException(error);
        }

        return options;
    }
}
