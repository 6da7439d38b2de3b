using System.Diagnostics;

namespace Orleans.Rooms.Telemetry;

/// <summary>
/// The names under which a front end reports: add <see cref="MeterName"/> to an OpenTelemetry meter provider
/// (<c>.AddMeter(RoomsTelemetry.MeterName)</c>) to export its metrics, and <see cref="ActivitySourceName"/> to a
/// tracer provider (<c>.AddSource(RoomsTelemetry.ActivitySourceName)</c>) to trace its socket requests.
/// </summary>
public static class RoomsTelemetry
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of the front end's sockets, memberships and deliveries.</summary>
    public const string MeterName = "Orleans.Rooms";

    /// <summary>
    /// The <see cref="ActivitySource"/> of the front end's socket requests: one span per virtual request, the
    /// parent of what the request does (ASP.NET Core's own request span, the grain calls it makes).
    /// </summary>
    public const string ActivitySourceName = "Orleans.Rooms";

    /// <summary>SignalR's own source: one root span per hub method call (ASP.NET Core 9 and later).</summary>
    public const string SignalRActivitySourceName = "Microsoft.AspNetCore.SignalR.Server";

    internal static readonly ActivitySource Source = new(ActivitySourceName);
}
