using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Orleans.Rooms.WarmUp;

/// <summary>
/// Not ready while the warm-up runs (<c>/readyz</c>); the process is alive all along (<c>/healthz</c>). Degraded,
/// not unhealthy: a server that is warming up is working as meant, so the health service logs it as a warning
/// rather than a failure on every start (<c>/readyz</c> answers 503 for degraded too).
/// </summary>
internal sealed class WarmUpHealthCheck(StartupWarmUp warmUp) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(warmUp.Done.IsCompleted
            ? HealthCheckResult.Healthy("Warmed up.")
            : HealthCheckResult.Degraded("Warming up (Rooms:WarmUp)."));
}
