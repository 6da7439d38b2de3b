using OpenTelemetry.Metrics;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.WebFrontend.Hosting;

/// <summary>
/// OpenTelemetry metrics of the front end, scraped by Prometheus at <c>/metrics</c>: the rooms meter
/// (sockets, memberships, broadcasts, deliveries, queue depth, slow clients, virtual-request duration) and
/// ASP.NET Core's own (<c>http.server.request.duration</c>, Kestrel's connections) and the runtime's (<c>System.Runtime</c>: GC,
/// allocation, CPU, the thread pool).
/// </summary>
internal static class FrontEndMetrics
{
    public const string Path = "/metrics";

    public static IServiceCollection AddFrontEndMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(RoomsTelemetry.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections", "System.Runtime")
            // Every scrape sees the figures of that moment (the exporter would otherwise answer from a 300 ms cache).
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    public static IEndpointRouteBuilder MapFrontEndMetrics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint(Path);
        return endpoints;
    }
}
