using System.Text.Json;

namespace Orleans.Rooms.BenchReport.Results;

/// <summary>One measured point of a growth curve, as benchmarks/Rooms.Curves writes it: on axis
/// <c>room_size</c> x is the members of the room measured; on axis <c>rooms</c> x is the rooms in the system.</summary>
internal sealed record CurvePoint(
    string Axis,
    double X,
    double JoinP50Ms,
    double JoinP99Ms,
    double DeliverP50Ms,
    double DeliverP99Ms,
    double? CpuUsPerDelivery,
    long Lost,
    int Members)
{
    public const string RoomSize = "room_size";
    public const string Rooms = "rooms";

    public static IReadOnlyList<CurvePoint> ReadAll(string file)
        => File.Exists(file) ? [.. File.ReadLines(file).Where(l => l.StartsWith('{')).Select(Parse)] : [];

    public static CurvePoint Parse(string line)
    {
        using var document = JsonDocument.Parse(line);
        var r = document.RootElement;
        return new CurvePoint(
            r.GetProperty("axis").GetString()!,
            r.GetProperty("x").GetDouble(),
            r.GetProperty("join_ms").GetProperty("p50").GetDouble(),
            r.GetProperty("join_ms").GetProperty("p99").GetDouble(),
            r.GetProperty("deliver_ms").GetProperty("p50").GetDouble(),
            r.GetProperty("deliver_ms").GetProperty("p99").GetDouble(),
            r.TryGetProperty("server_cpu_us_per_delivery", out var cpu) && cpu.ValueKind == JsonValueKind.Number ? cpu.GetDouble() : null,
            r.GetProperty("lost").GetInt64(),
            r.GetProperty("members").GetInt32());
    }
}
