using Orleans.Rooms.BenchReport.Charts;
using Orleans.Rooms.BenchReport.Report;
using Orleans.Rooms.BenchReport.Results;

// Reads what benchmarks/run collected in a results folder and writes BENCHMARKS.md (and the curve charts into
// the results folder, linked from it).
// Usage: Orleans.Rooms.BenchReport --results DIR --output BENCHMARKS.md --repo REPO_ROOT
string? results = null, output = null, repo = null;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--results": results = args[i + 1]; break;
        case "--output": output = args[i + 1]; break;
        case "--repo": repo = args[i + 1]; break;
        default: return Usage($"unknown option {args[i]}");
    }
}

if (results is null || output is null)
{
    return Usage("--results and --output are required");
}

repo ??= Path.GetDirectoryName(Path.GetFullPath(output))!;
var folder = ResultsFolder.Load(Path.GetFullPath(results));
var chartFolder = Path.Combine(folder.Path, "curves");
var charts = folder.Curves.Count > 0 ? CurveCharts.Write(folder.Curves, chartFolder) : [];
var analysisFile = Path.Combine(folder.Path, "analysis.md");
var analysis = File.Exists(analysisFile) ? File.ReadAllText(analysisFile) : null;
var elsewhereFile = Path.Combine(repo, MarkdownReport.ElsewhereFile);
var elsewhere = File.Exists(elsewhereFile) ? File.ReadAllText(elsewhereFile) : null;
var markdown = new MarkdownReport(folder, charts, Path.GetRelativePath(repo, chartFolder).Replace('\\', '/'), Path.GetRelativePath(repo, folder.Path).Replace('\\', '/'), analysis, elsewhere).Render();
File.WriteAllText(output, markdown);
Console.Error.WriteLine($"report: {output} ({folder.Embedded.Count} embedded runs, {folder.Cluster.Count} cluster runs, {folder.Curves.Count} curve points, {charts.Count} charts)");
return 0;

static int Usage(string why)
{
    Console.Error.WriteLine($"report: {why}\nusage: Orleans.Rooms.BenchReport --results DIR --output BENCHMARKS.md [--repo REPO_ROOT]");
    return 2;
}
