using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Diagnostics;

namespace Orleans.Hosting;

/// <summary>Traces of the rooms service (front ends and silos), exported over OTLP when a collector is named (README, "Traces").</summary>
public static class RoomsTracingHostingExtensions
{
    /// <summary>The standard settings (environment or configuration) that name an OTLP collector.</summary>
    public static readonly string[] OtlpEndpointSettings = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];

    /// <summary>
    /// What a trace of this process holds: Orleans' grain-call spans (its activity propagation, which
    /// <see cref="RoomsSiloHostingExtensions.ConfigureRoomsSilo"/> and <see cref="RoomsClientHostingExtensions.ConfigureRoomsClient"/>
    /// add, carries a trace from process to process) and the host's own <paramref name="sources"/>. Exported over
    /// OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>) is set, with the
    /// exporter's other <c>OTEL_*</c> settings; otherwise nothing listens, and no span is made at all, unless the
    /// app adds a tracer provider of its own (<c>services.AddOpenTelemetry().WithTracing(...)</c>), which then
    /// gets these sources too.
    /// </summary>
    public static IHostApplicationBuilder AddRoomsTracing(this IHostApplicationBuilder builder, string serviceName, params string[] sources)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
            .AddSource([ActivitySources.RuntimeActivitySourceName, ActivitySources.ApplicationGrainActivitySourceName, .. sources])
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME, when set, names the service instead.
                if (string.IsNullOrEmpty(builder.Configuration["OTEL_SERVICE_NAME"]))
                {
                    resource.AddService(serviceName);
                }
            }));

        if (OtlpEndpointSettings.Any(setting => !string.IsNullOrWhiteSpace(builder.Configuration[setting])))
        {
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddOtlpExporter());
        }

        return builder;
    }
}
