using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Orleans.Rooms.Lease;

/// <summary>
/// Ready while the front end's lease is current (the cluster knows it and delivers to it) and it is not stopping:
/// a stopping front end drains, so a load balancer's readiness check takes it out.
/// </summary>
internal sealed class FrontEndHealthCheck(FrontEndLease lease) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(
            lease.IsDraining ? HealthCheckResult.Unhealthy($"Front end {lease.Id} is stopping: its sockets are moving to other front ends.")
            : lease.IsAttached ? HealthCheckResult.Healthy($"Front end {lease.Id} is attached to the cluster.")
            : HealthCheckResult.Unhealthy($"Front end {lease.Id} is not attached to the cluster (yet): its lease is not current."));
}
