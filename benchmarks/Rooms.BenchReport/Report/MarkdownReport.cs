using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Orleans.Rooms.BenchReport.Charts;
using Orleans.Rooms.BenchReport.Results;

namespace Orleans.Rooms.BenchReport.Report;

/// <summary>BENCHMARKS.md: machine, how it was run, issue 8's targets (per round and median), one table per
/// scenario, the growth curves, what bounds the targets not met (the results folder's analysis.md, written by
/// whoever profiled that run), and what each number means.</summary>
internal sealed class MarkdownReport(ResultsFolder folder, IReadOnlyList<CurveCharts.Chart> charts, string chartLink, string resultsLink, string? analysis = null)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Scenario name as filed by benchmarks/run → what its table shows.</summary>
    private static readonly (string Shape, string Scenario, string Title, Metric[] Metrics)[] Tables =
    [
        ("embedded", "joinleave", "joinleave", [Metric.OpsPerS, Metric.OpLatencyP50, Metric.OpLatencyP99, Metric.CpuPerOp]),
        ("embedded", "cold", "cold start (ours only: a fresh server, measured from its first /healthz answer)", [Metric.OpsPerS, Metric.OpLatencyP99, Metric.CpuPerOp]),
        ("embedded", "fanout", "fanout", [Metric.DeliveriesPerS, Metric.DeliveryP50, Metric.DeliveryP99, Metric.CpuPerDelivery, Metric.Lost]),
        ("embedded", "fanout5000", "fanout, a 5,000-member room", [Metric.DeliveriesPerS, Metric.DeliveryP50, Metric.DeliveryP99, Metric.CpuPerDelivery, Metric.Lost]),
        ("embedded", "fanout10000", "fanout, a 10,000-member room", [Metric.DeliveriesPerS, Metric.DeliveryP50, Metric.DeliveryP99, Metric.CpuPerDelivery, Metric.Lost]),
        ("embedded", "memberships", "memberships", [Metric.MembershipsPerS, Metric.MembershipJoinP99, Metric.CpuPerMembership, Metric.RssPerMembershipKb, Metric.RssPerSocketKb]),
        ("embedded", "scale", "scale: 10,000 sockets × 10 rooms", [Metric.MembershipsPerS, Metric.MembershipJoinP99, Metric.CpuPerMembership, Metric.RssPerMembershipKb, Metric.RssPerSocketKb]),
        ("cluster", "joinleave", "joinleave", [Metric.OpsPerS, Metric.OpLatencyP50, Metric.OpLatencyP99, Metric.CpuPerOp]),
        ("cluster", "crossnode", "crossnode", [Metric.CrossDeliveryP99, Metric.CrossLost, Metric.KickP99, Metric.ReceivingAfterKick]),
    ];

    private readonly StringBuilder _md = new();

    public string Render()
    {
        var quick = folder.Setting("quick", "0") == "1";
        Line("# Benchmarks");
        Line();
        if (quick)
        {
            Line("> **Pipeline check, not a measurement.** Written by `benchmarks/run --quick`: small scenario sizes, one round,");
            Line("> on a machine shared with other builds and test runs. It shows that the entry point, the harness, the parsing");
            Line("> and the charts work end to end; none of its numbers says anything about the service. Run `benchmarks/run`");
            Line("> on a quiet machine for the measurement.");
            Line();
        }

        Line($"Written by `benchmarks/run` from [{resultsLink}]({resultsLink}) (the harness's raw JSON lines, one file per round and scenario).");
        Line();
        Line("| | |");
        Line("|---|---|");
        Line($"| date | {folder.Setting("date")} |");
        Line($"| machine | {folder.Setting("nproc")} cores ({folder.Setting("cpu")}), {folder.Setting("ram")} RAM |");
        Line($"| OS | {folder.Setting("os")} |");
        Line($"| .NET | SDK {folder.Setting("dotnet")}; node {folder.Setting("node")} (harness client, Sails) |");
        Line($"| commit | `{folder.Setting("commit")}` |");
        Line($"| load average (1, 5, 15 min) | before {folder.Setting("load_before")}; after {folder.Setting("load_after")} |");
        Line($"| duration | {folder.Setting("seconds")} s |");
        Line();
        HowItWasRun();
        TargetsTable();
        foreach (var shape in new[] { "embedded", "cluster" })
        {
            var runs = shape == "embedded" ? folder.Embedded : folder.Cluster;
            if (runs.Count == 0)
            {
                continue;
            }

            Line($"## {(shape == "embedded" ? "Embedded shape: one front end with its own silo" : "Cluster shape: 2 silos + 2 front ends (scripts/cluster)")}");
            Line();
            foreach (var table in Tables.Where(t => t.Shape == shape))
            {
                ScenarioTable(runs, table.Scenario, table.Title, table.Metrics);
            }
        }

        Curves();
        if (!string.IsNullOrWhiteSpace(analysis))
        {
            Line("## What bounds the targets not met");
            Line();
            Line($"From `{resultsLink}/analysis.md`: the profiles and counts taken around this run, by hand.");
            Line();
            _md.Append(RebaseLinks(analysis.TrimEnd(), resultsLink)).Append('\n');
            Line();
        }

        Meanings();
        return _md.ToString();
    }

    /// <summary>
    /// The analysis links relative to its own folder (a sibling run, its experiments); this page is at the
    /// repository root, so those links are made relative to the root.
    /// </summary>
    internal static string RebaseLinks(string markdown, string folderLink)
        => Regex.Replace(markdown, @"\]\((?![a-z][a-z0-9+.-]*:|/|#)([^)\s]+)\)", m => $"]({Rebase(folderLink, m.Groups[1].Value)})", RegexOptions.IgnoreCase);

    private static string Rebase(string folder, string relative)
    {
        var parts = new List<string>(folder.Split('/', StringSplitOptions.RemoveEmptyEntries));
        foreach (var part in relative.Split('/'))
        {
            if (part == ".." && parts.Count > 0)
            {
                parts.RemoveAt(parts.Count - 1);
            }
            else if (part is not ("." or ".."))
            {
                parts.Add(part);
            }
        }

        return string.Join('/', parts);
    }

    private void HowItWasRun()
    {
        Line("## How it was run");
        Line();
        Line($"- **Rounds:** {folder.Setting("rounds")}, back to back; each round runs every scenario once per target, in the order sails, signalr, ours.");
        var cold = folder.Embedded.Where(r => r.Scenario == "cold" && r.Who == HarnessRun.Ours && r.StartedMs is not null && folder.Starts.ContainsKey(r.Round))
            .OrderBy(r => r.Round)
            .Select(r =>
            {
                var (launched, ready) = folder.Starts[r.Round];
                var from = (r.StartedMs!.Value + (r.ConnectSeconds * 1000) - launched) / 1000;
                return $"r{r.Round}: /healthz {(ready - launched) / 1000:0.0} s, measured {from:0.0}–{from + (r.Number("seconds") ?? 0):0.0} s";
            })
            .ToArray();
        Line("- **Our server** (embedded): a fresh `WebFrontend` process (Release) per round, on a free 127.0.0.1 port. First the **cold start**: "
            + $"`{folder.Setting("spec.cold")}` started the moment `/healthz` first answers; the harness then connects its sockets and measures "
            + $"(after launch: {(cold.Length == 0 ? "not recorded" : Join(cold, "; "))}). So the window is the process's first seconds *after it can answer*, not from its exec: "
            + "start-up itself is not in it. "
            + "Then the **warm-up**: one short run of each of joinleave, fanout and memberships against it, discarded "
            + $"(`{folder.Setting("warm.joinleave")}`, `{folder.Setting("warm.fanout")}`, `{folder.Setting("warm.memberships")}`). Then the scenarios side by side.");
        Line("- **Peers** (`sails`, `signalr`, and `sails-redis`, `signalr-redis` for the cluster): started by the shared harness itself, a fresh process for "
            + "every run, so they are not warmed the way ours is (the harness offers no way to keep a peer running; it is not changed from here).");
        Line("- **Cluster shape:** `scripts/cluster up` (redis-server, 2 silos, 2 front ends) per round, the round's own joinleave run against it until steady and discarded (at least three runs, then until one is within 10 % of the one before, at most six: a .NET server reaches its steady speed only after tens of seconds of load; the cold start is measured on its own, embedded), then one crossnode run, discarded (its kicks take paths joinleave does not), then the scenarios; `pids=` holds the silos and front ends, so server CPU counts all four.");
        Line("- **Client and servers share the machine:** throughput is that of client and server together; compare ratios within a round and look at server CPU per unit.");
        Line("- **Scenario sizes** (harness k=v; everything else its defaults):");
        Line();
        foreach (var (key, value) in folder.Run.Where(p => p.Key.StartsWith("spec.", StringComparison.Ordinal)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Line($"  - {key[5..]}: `{value}`");
        }

        Line();
    }

    private void TargetsTable()
    {
        Line("## Issue 8's targets");
        Line();
        Line("Each a ratio ours/peer from the same round (or ours alone where no peer is named), then the median of the rounds; *met* compares the median with the goal.");
        Line();
        if (folder.Setting("quick", "0") == "1")
        {
            Line("**`--quick`: the scenarios were far smaller than these names say** (a \"10,000-member room\" was a few hundred; see the scenario sizes above): this table only shows that every target is computed.");
            Line();
        }

        var rounds = Rounds(folder.Embedded.Concat(folder.Cluster));
        Line($"| target | {Join(rounds.Select(r => $"r{r}"), " | ")} | median | goal | met |");
        Line($"|---|{string.Concat(rounds.Select(_ => "---:|"))}---:|:---:|:---:|");
        foreach (var target in Target.All)
        {
            var runs = target.Shape == "embedded" ? folder.Embedded : folder.Cluster;
            var values = target.PerRound(runs, rounds);
            var median = Stats.Median(values.Select(v => v.Value));
            var met = median is { } m ? (target.Meets(m) ? "met" : "**not met**") : "not measured";
            var format = target.Peer is null && target.WarmScenario is null ? $"F{target.Metric.Decimals}" : "F2";
            Line($"| {target.Label} | {Join(values.Select(v => Format(v.Value, format)), " | ")} | {Format(median, format)} | {target.GoalText} | {met} |");
        }

        Line();
    }

    private void ScenarioTable(IReadOnlyList<HarnessRun> runs, string scenario, string title, Metric[] metrics)
    {
        var mine = runs.Where(r => r.Scenario == scenario).ToArray();
        if (mine.Length == 0)
        {
            return;
        }

        var rounds = Rounds(mine);
        var who = mine.Select(r => r.Who).Distinct().OrderBy(w => w == HarnessRun.Ours ? 1 : 0).ThenBy(w => w, StringComparer.Ordinal).ToArray();
        var spec = folder.Setting("spec." + scenario, scenario);
        Line($"### {title}");
        Line();
        Line($"`{spec}`");
        Line();
        Line($"| number | target | {Join(rounds.Select(r => $"r{r}"), " | ")} | median |");
        Line($"|---|---|{string.Concat(rounds.Select(_ => "---:|"))}---:|");
        foreach (var metric in metrics)
        {
            foreach (var w in who)
            {
                var values = rounds.Select(r => mine.FirstOrDefault(x => x.Round == r && x.Who == w) is { Error: null } run ? metric.Read(run) : null).ToArray();
                Line($"| {metric.Label} | {w} | {Join(values.Select(v => Format(v, $"F{metric.Decimals}")), " | ")} | {Format(Stats.Median(values), $"F{metric.Decimals}")} |");
            }
        }

        foreach (var w in who)
        {
            var cells = rounds.Select(r => mine.FirstOrDefault(x => x.Round == r && x.Who == w) is { } run
                ? run.Error is not null ? $"failed: {run.Error}" : run.Ok ? "ok" : $"{run.Errors} errors, {run.Failures} failures"
                : "—");
            Line($"| checks | {w} | {Join(cells, " | ")} | |");
        }

        Line();
    }

    private void Curves()
    {
        Line("## Growth curves");
        Line();
        if (charts.Count == 0)
        {
            Line("Not measured in this run (`benchmarks/run --only curves` measures them).");
            Line();
            return;
        }

        Line("Measured by `benchmarks/Rooms.Curves` against our embedded server alone (a fresh process, Release), with real SignalR "
            + "clients speaking docs/protocol.md (hub `/sockets`, method `Request`) from one client process on the same machine. At each point:");
        Line();
        Line("- **warm-up** first: the harness's short joinleave, fanout and memberships runs against the fresh server, discarded, as for the embedded rounds;");
        Line("- **settle**: 2 s after growing the room or the rooms, before measuring;");
        Line("- **join latency**: one extra socket joins and leaves the measured room (room-size axis) or a room of its own that did not exist before (rooms axis: first join, so the room directory is on the path) sequentially; the answer time of each join;");
        Line("- **time to deliver**: a non-member sends a broadcast via `/broadcastFunRoom` and waits until every member has it, then the next; from send to the last member's arrival;");
        Line("- **server CPU per delivery**: the server process's CPU (`/proc/PID/stat`, user + system) across those broadcasts divided by members × broadcasts.");
        Line();
        Line("**Room size** (x = members of one room): the room grows by connecting more sockets and joining them. "
            + "**Number of rooms** (x = rooms in the system): a fixed pool of sockets joins more and more rooms of one member each (each socket holds rooms/pool of them), "
            + "while a fixed room of the pool's first sockets (100; 50 with `--quick`) is the one broadcast to; real sockets are enough here because rooms, not sockets, grow "
            + "(100,000 rooms = 1,000 sockets × 100 rooms each, within `Rooms:MaxRoomsPerSocket` and the ~20,000 open files this machine allows).");
        Line();
        foreach (var (axis, name) in new[] { (CurvePoint.RoomSize, "room size"), (CurvePoint.Rooms, "number of rooms") })
        {
            var points = folder.Curves.Where(p => p.Axis == axis).OrderBy(p => p.X).ToArray();
            if (points.Length == 0)
            {
                continue;
            }

            Line($"### Against {name}");
            Line();
            Line($"| {(axis == CurvePoint.RoomSize ? "members" : "rooms")} | join p50 ms | join p99 ms | deliver p50 ms | deliver p99 ms | server CPU µs/delivery | lost |");
            Line("|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var p in points)
            {
                Line($"| {p.X.ToString("N0", Invariant)} | {p.JoinP50Ms.ToString("F2", Invariant)} | {p.JoinP99Ms.ToString("F2", Invariant)} | {p.DeliverP50Ms.ToString("F1", Invariant)} | {p.DeliverP99Ms.ToString("F1", Invariant)} | {Format(p.CpuUsPerDelivery, "F2")} | {p.Lost} |");
            }

            Line();
            var join = CurveCharts.Spread(folder.Curves, axis, p => p.JoinP50Ms);
            var deliver = CurveCharts.Spread(folder.Curves, axis, p => p.DeliverP50Ms);
            var cpu = CurveCharts.Spread(folder.Curves, axis, p => p.CpuUsPerDelivery);
            var span = $"{points[0].X.ToString("N0", Invariant)} to {points[^1].X.ToString("N0", Invariant)}";
            Line(axis == CurvePoint.RoomSize
                ? $"Should be flat from {span} members: join latency, p50 {Flat(join)}. Time to deliver grows with the members by nature; "
                    + "CPU per delivery falls while a broadcast's fixed cost (its request, its grain calls) is shared by more members, and should level off."
                : $"Should be flat from {span} rooms: join latency, p50 {Flat(join)}; and, the broadcast room staying at {points[0].Members} members, "
                    + $"time to deliver, p50 {Flat(deliver)}, and CPU per delivery, {Flat(cpu)}.");
            Line();
            foreach (var chart in charts.Where(c => c.Axis == axis))
            {
                Line($"![{chart.Title}]({chartLink}/{chart.File})");
                Line();
            }
        }
    }

    private static string Flat(double? growth) => growth switch
    {
        null => "not enough points",
        <= 1.5 => $"flat (largest/smallest ×{growth.Value.ToString("F2", Invariant)}, within ×1.5)",
        _ => $"**not flat** (largest/smallest ×{growth.Value.ToString("F2", Invariant)}, over ×1.5)",
    };

    private void Meanings()
    {
        Line("## What the numbers mean");
        Line();
        foreach (var metric in new[]
        {
            Metric.OpsPerS, Metric.OpLatencyP50, Metric.OpLatencyP99, Metric.CpuPerOp, Metric.DeliveriesPerS, Metric.DeliveryP50, Metric.DeliveryP99,
            Metric.CpuPerDelivery, Metric.Lost, Metric.MembershipsPerS, Metric.MembershipJoinP99, Metric.CpuPerMembership, Metric.RssPerMembershipKb,
            Metric.RssPerSocketKb, Metric.CrossDeliveryP99, Metric.CrossLost, Metric.KickP99, Metric.ReceivingAfterKick,
        })
        {
            Line($"- **{metric.Label}**: {metric.Meaning}.");
        }

        Line("- **checks**: `ok` when the harness counted no errors (failed or wrong answers, failed connects) and no failures (lost, leaked or duplicate deliveries, wrong subscriber lists); otherwise the counts (the raw line's `counts` and `notes` say which).");
        Line("- **cold start ratio**: ours' ops/s in the cold run over ours' ops/s in the warm joinleave of the same round (same sockets and duration except D).");
        Line("- **ratio**: ours divided by the peer's number from the same round; above 1 is better for rates, below 1 for latencies, CPU and memory.");
        Line();
    }

    private static int[] Rounds(IEnumerable<HarnessRun> runs) => [.. runs.Select(r => r.Round).Distinct().Order()];

    private static string Format(double? value, string format) => value is { } v ? v.ToString(format, Invariant) : "—";

    private static string Join(IEnumerable<string> parts, string separator = ", ") => string.Join(separator, parts);

    private void Line(string text = "") => _md.Append(text).Append('\n');
}
