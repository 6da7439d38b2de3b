using System.Text.RegularExpressions;

namespace Orleans.Rooms.BenchReport.Results;

/// <summary>What one benchmarks/run left in its results folder: <c>run.txt</c> (machine, settings),
/// <c>embedded/r{round}-{scenario}.jsonl</c>, <c>cluster/r{round}-{scenario}.jsonl</c>,
/// <c>embedded/r{round}-cold.start.json</c> and <c>curves/curves.jsonl</c>.</summary>
internal sealed partial class ResultsFolder
{
    public required string Path { get; init; }

    public required IReadOnlyDictionary<string, string> Run { get; init; }

    public required IReadOnlyList<HarnessRun> Embedded { get; init; }

    public required IReadOnlyList<HarnessRun> Cluster { get; init; }

    /// <summary>Per round: when the cold start's server was launched and when it first answered (Unix ms).</summary>
    public required IReadOnlyDictionary<int, ColdStart> Starts { get; init; }

    public required IReadOnlyList<CurvePoint> Curves { get; init; }

    public static ResultsFolder Load(string path) => new()
    {
        Path = path,
        Run = ReadSettings(System.IO.Path.Combine(path, "run.txt")),
        Embedded = ReadRuns(System.IO.Path.Combine(path, "embedded")),
        Cluster = ReadRuns(System.IO.Path.Combine(path, "cluster")),
        Starts = ReadStarts(System.IO.Path.Combine(path, "embedded")),
        Curves = CurvePoint.ReadAll(System.IO.Path.Combine(path, "curves", "curves.jsonl")),
    };

    public string Setting(string key, string fallback = "?") => Run.TryGetValue(key, out var v) ? v : fallback;

    public static Dictionary<string, string> ReadSettings(string file)
    {
        var settings = new Dictionary<string, string>();
        if (!File.Exists(file))
        {
            return settings;
        }

        foreach (var line in File.ReadLines(file))
        {
            var eq = line.IndexOf('=');
            if (eq > 0)
            {
                settings[line[..eq]] = line[(eq + 1)..];
            }
        }

        return settings;
    }

    /// <summary>Every JSON line of every <c>r{round}-{scenario}.jsonl</c> in the folder.</summary>
    public static List<HarnessRun> ReadRuns(string folder)
    {
        var runs = new List<HarnessRun>();
        if (!Directory.Exists(folder))
        {
            return runs;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "r*.jsonl").Order(StringComparer.Ordinal))
        {
            var match = RunFileName().Match(System.IO.Path.GetFileName(file));
            if (!match.Success)
            {
                continue;
            }

            var round = int.Parse(match.Groups["round"].Value);
            foreach (var line in File.ReadLines(file).Where(l => l.StartsWith('{')))
            {
                runs.Add(HarnessRun.Parse(line, match.Groups["scenario"].Value, round));
            }
        }

        return runs;
    }

    public static Dictionary<int, ColdStart> ReadStarts(string folder)
    {
        var starts = new Dictionary<int, ColdStart>();
        if (!Directory.Exists(folder))
        {
            return starts;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "r*-cold.start.json"))
        {
            var start = ColdStart.Parse(File.ReadAllText(file));
            starts[start.Round] = start;
        }

        return starts;
    }

    [GeneratedRegex(@"^r(?<round>\d+)-(?<scenario>[a-z0-9]+)\.jsonl$")]
    private static partial Regex RunFileName();
}
