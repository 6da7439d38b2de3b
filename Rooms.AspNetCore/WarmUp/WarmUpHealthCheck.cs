using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Orleans.Rooms.WarmUp;

/// <summary>Not ready while the warm-up runs (<c>/readyz</c>); the process is alive all along (<c>/healthz</c>).</summary>
internal sealed class WarmUpHealthCheck(StartupWarmUp warmUp) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(warmUp.Done.IsCompleted
            ? HealthCheckResult.Healthy("Warmed up.")
            : HealthCheckResult.Unhealthy("Warming up (Rooms:WarmUp)."));
}
