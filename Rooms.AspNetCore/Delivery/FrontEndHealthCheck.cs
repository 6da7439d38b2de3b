using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Orleans.Rooms.Delivery;

/// <summary>Ready while the front end's lease is current: the cluster knows it and delivers to it.</summary>
internal sealed class FrontEndHealthCheck(FrontEndLease lease, FrontEndIdentity identity) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(lease.IsAttached
            ? HealthCheckResult.Healthy($"Front end {identity.Id} is attached to the cluster.")
            : HealthCheckResult.Unhealthy($"Front end {identity.Id} is not attached to the cluster (yet): its lease is not current."));
}
