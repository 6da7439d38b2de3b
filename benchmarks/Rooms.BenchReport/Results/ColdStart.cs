using System.Text.Json;

namespace Orleans.Rooms.BenchReport.Results;

/// <summary>
/// One round's start of a fresh server of ours, as benchmarks/run files it in <c>r{round}-cold.start.json</c>:
/// when it was launched (just before the exec), when <c>/readyz</c> first answered 200, and from which of the
/// two answers the cold window was measured. Folders written before issue 21 measured it from <c>/healthz</c>
/// (<c>ready_ms</c>) and recorded <c>/readyz</c> beside it, possibly as null when it came after the window.
/// </summary>
internal sealed record ColdStart(int Round, double LaunchedMs, double? ReadyzMs, double? HealthzMs, string WindowFrom)
{
    public const string FromReadyz = "readyz";
    public const string FromHealthz = "healthz";

    /// <summary>Seconds from the exec to the first 200 of <c>/readyz</c>; null when that was not recorded.</summary>
    public double? ReadyzSeconds => ReadyzMs is { } r ? (r - LaunchedMs) / 1000 : null;

    /// <summary>When the cold window's clock starts (Unix ms): the answer the harness run was started on.</summary>
    public double? WindowStartMs => WindowFrom == FromReadyz ? ReadyzMs : HealthzMs;

    /// <summary>Where in the cold window (seconds after <see cref="WindowStartMs"/>) the harness measured: after it
    /// started and connected its sockets, for the run's <c>seconds</c>.</summary>
    public (double From, double To)? Measured(HarnessRun cold)
    {
        if (WindowStartMs is not { } start || cold.StartedMs is not { } began)
        {
            return null;
        }

        var from = (began + (cold.ConnectSeconds * 1000) - start) / 1000;
        return (from, from + (cold.Number("seconds") ?? 0));
    }

    public static ColdStart Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var window = root.TryGetProperty("window_from", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString()! : FromHealthz;
        return new ColdStart(
            root.GetProperty("round").GetInt32(),
            root.GetProperty("launched_ms").GetDouble(),
            Ms(root, "readyz_ms"),
            Ms(root, "ready_ms"),
            window);
    }

    private static double? Ms(JsonElement root, string name)
        => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
}
