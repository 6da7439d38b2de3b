using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Orleans.Rooms.Hosting;

namespace Orleans.Rooms.Silo;

/// <summary>
/// A stand-alone silo of the rooms cluster: the room grains on Redis clustering, plus the health endpoints
/// (<c>/healthz</c> alive, <c>/readyz</c> active in the cluster, <c>/cluster</c> the active silos it sees, the
/// version of its view, and how long the heal window it sees stays open).
/// SIGTERM stops it gracefully: it leaves the cluster, and front ends rebuild what its grains held.
/// </summary>
public static class SiloApp
{
    public const string DefaultUrl = "http://127.0.0.1:8081";

    /// <summary>The service its traces are exported under (OTLP, when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set).</summary>
    public const string ServiceName = "orleans-rooms-silo";

    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var cluster = ClusterHostingOptions.Read(builder.Configuration);
        if (string.IsNullOrWhiteSpace(cluster.Redis))
        {
            throw new InvalidOperationException("Orleans:Redis is required for a stand-alone silo: the Redis connection string of the cluster's membership table (e.g. --Orleans:Redis=127.0.0.1:6379 or environment Orleans__Redis).");
        }

        builder.UseOrleans(silo => silo.ConfigureRoomsSilo(cluster));
        builder.AddRoomsTracing(ServiceName);
        builder.Services.AddHealthChecks().AddCheck<SiloActiveHealthCheck>("silo-active", tags: ["ready"]);

        var app = builder.Build();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        app.MapGet("/cluster", (IClusterMembershipService membership, IHealWindow healing) =>
        {
            var view = membership.CurrentSnapshot;
            var active = SiloActiveHealthCheck.ActiveSilos(view);
            var healingFor = healing.Remaining;
            return Results.Json(new { activeSilos = active.Length, silos = active, version = view.Version.Value, healingSeconds = healingFor is { } left ? Math.Round(left.TotalSeconds, 1) : (double?)null });
        });
        return app;
    }
}
