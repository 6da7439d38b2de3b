using System.Text.Json;

namespace Orleans.Rooms.BenchReport.Results;

/// <summary>One JSON line of the shared harness (../shared/bench/README.md, "Reading the output"), with the
/// round and the scenario name benchmarks/run filed it under.</summary>
internal sealed record HarnessRun(string Target, string Scenario, int Round, bool Ok, int Errors, int Failures, string? Error, JsonElement? Result)
{
    /// <summary>When the driver started (Unix ms), before it connected its sockets.</summary>
    public double? StartedMs { get; init; }

    /// <summary>Seconds the driver spent connecting its sockets before it measured.</summary>
    public double ConnectSeconds { get; init; }

    /// <summary>What benchmarks/run calls a target: the harness name for the peers, "ours" for a url: target.</summary>
    public string Who => Target.StartsWith("url:", StringComparison.Ordinal) ? Ours : Target;

    public const string Ours = "ours";

    public static HarnessRun Parse(string line, string scenario, int round)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var target = root.TryGetProperty("target", out var t) ? t.GetString() ?? "?" : "?";
        return new HarnessRun(
            target,
            scenario,
            round,
            root.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True,
            Int(root, "errors"),
            Int(root, "failures"),
            root.TryGetProperty("error", out var e) ? e.GetString() : null,
            root.TryGetProperty("result", out var r) && r.ValueKind == JsonValueKind.Object ? r.Clone() : null)
        {
            StartedMs = root.TryGetProperty("started", out var started) && started.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(started.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
                ? at.ToUnixTimeMilliseconds()
                : null,
            ConnectSeconds = root.TryGetProperty("connect", out var connect) && connect.ValueKind == JsonValueKind.Array
                ? connect.EnumerateArray().Sum(c => c.TryGetProperty("seconds", out var sec) && sec.ValueKind == JsonValueKind.Number ? sec.GetDouble() : 0)
                : 0,
        };
    }

    /// <summary>The number at a dotted path of the result (<c>latency_ms.p99</c>); an array (per server
    /// process, e.g. <c>server_cpu_s</c>) counts as its sum; null where absent or null.</summary>
    public double? Number(string path)
    {
        if (Result is not { } current)
        {
            return null;
        }

        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current))
            {
                return null;
            }
        }

        return Sum(current);
    }

    private static double? Sum(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.Array when value.GetArrayLength() > 0 && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number)
            => value.EnumerateArray().Sum(v => v.GetDouble()),
        _ => null,
    };

    private static int Int(JsonElement root, string name)
        => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : 0;
}
