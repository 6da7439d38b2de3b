using OpenTelemetry.Trace;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.WebFrontend.Hosting;

/// <summary>
/// Traces of the front end (<see cref="RoomsTracingHostingExtensions.AddRoomsTracing"/>: over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set). A socket request is one trace: SignalR's span of the hub call, the
/// socket request's own span (<see cref="RoomsTelemetry.ActivitySourceName"/>), ASP.NET Core's span of the request
/// as the app's endpoints run it, and the grain calls it makes, on the silos too. Plain HTTP requests are traced
/// as well, but not the probes and scrapes that arrive every second.
/// </summary>
internal static class FrontEndTracing
{
    public const string ServiceName = "orleans-rooms-frontend";

    public static WebApplicationBuilder AddFrontEndTracing(this WebApplicationBuilder builder)
    {
        builder.AddRoomsTracing(ServiceName, RoomsTelemetry.ActivitySourceName, RoomsTelemetry.SignalRActivitySourceName);
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddAspNetCoreInstrumentation(o =>
            o.Filter = http => http.Request.Path.Value is not (FrontEndApp.HealthPath or FrontEndApp.ReadyPath or FrontEndMetrics.Path)));
        return builder;
    }
}
