namespace Orleans.Rooms.Telemetry;

/// <summary>
/// The names under which a front end reports: add <see cref="MeterName"/> to an OpenTelemetry meter provider
/// (<c>.AddMeter(RoomsTelemetry.MeterName)</c>) to export its metrics.
/// </summary>
public static class RoomsTelemetry
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of the front end's sockets, memberships and deliveries.</summary>
    public const string MeterName = "Orleans.Rooms";
}
