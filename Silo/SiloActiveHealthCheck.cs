using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Orleans.Rooms.Silo;

/// <summary>Ready once this silo is Active in the cluster's membership (and until it starts shutting down).</summary>
internal sealed class SiloActiveHealthCheck(IClusterMembershipService membership, ILocalSiloDetails local) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"Silo {local.SiloAddress} is active in the cluster.")
            : HealthCheckResult.Unhealthy($"Silo {local.SiloAddress} is {status} in the cluster."));
    }

    public static string[] ActiveSilos(ClusterMembershipSnapshot view)
        => [.. view.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress.ToString()).Order(StringComparer.Ordinal)];
}
