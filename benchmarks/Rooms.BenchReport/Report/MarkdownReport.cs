using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Orleans.Rooms.BenchReport.Charts;
using Orleans.Rooms.BenchReport.Results;

namespace Orleans.Rooms.BenchReport.Report;

/// <summary>BENCHMARKS.md: machine, how it was run, issue 21's targets (per round and median; those measured
/// elsewhere listed from benchmarks/targets-elsewhere.md), one table per scenario, the growth curves, what bounds
/// the targets not met (the results folder's analysis.md, written by whoever profiled that run), and what each
/// number means.</summary>
internal sealed class MarkdownReport(ResultsFolder folder, IReadOnlyList<CurveCharts.Chart> charts, string chartLink, string resultsLink, string? analysis = null, string? elsewhere = null)
{
    /// <summary>Where the list of targets checked elsewhere comes from, relative to the repository root.</summary>
    public const string ElsewhereFile = "benchmarks/targets-elsewhere.md";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Scenario name as filed by benchmarks/run → what its table shows.</summary>
    private static readonly (string Shape, string Scenario, string Title, Metric[] Metrics)[] Tables =
    [
        ("embedded", "joinleave", "joinleave", [Metric.OpsPerS, Metric.OpLatencyP50, Metric.OpLatencyP99, Metric.CpuPerOp]),
        ("embedded", "cold", "cold start (ours only: a fresh server, measured from the moment it is ready)", [Metric.OpsPerS, Metric.OpLatencyP99, Metric.CpuPerOp]),
        ("embedded", "fanout", "fanout", [Metric.DeliveriesPerS, Metric.DeliveryP50, Metric.DeliveryP99, Metric.CpuPerDelivery, Metric.Lost]),
        ("embedded", "fanout5000", "fanout, a 5,000-member room", [Metric.DeliveriesPerS, Metric.DeliveryP50, Metric.DeliveryP99, Metric.CpuPerDelivery, Metric.Lost]),
        ("embedded", "fanout10000", "fanout, a 10,000-member room", [Metric.DeliveriesPerS, Metric.DeliveryP50, Metric.DeliveryP99, Metric.CpuPerDelivery, Metric.Lost]),
        ("embedded", "memberships", "memberships", [Metric.MembershipsPerS, Metric.MembershipJoinP99, Metric.CpuPerMembership, Metric.RssPerMembershipKb, Metric.RssPerSocketKb]),
        ("embedded", "scale", "scale: 10,000 sockets × 10 rooms", [Metric.MembershipsPerS, Metric.MembershipJoinP99, Metric.CpuPerMembership, Metric.RssPerMembershipKb, Metric.RssPerSocketKb]),
        ("embedded", "idle", "idle sockets: 5,000 connected, nothing joined (a fresh server of each)", [Metric.RssPerSocketKb, Metric.RssBeforeConnectMb, Metric.RssConnectedMb]),
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
        var embeddedRounds = folder.Setting("rounds");
        Line($"- **Rounds:** embedded {embeddedRounds}, cluster {folder.Setting("cluster_rounds", embeddedRounds)}, back to back; each round runs every scenario once per target, in the order sails, signalr, ours (sails-redis, signalr-redis, ours in the cluster).");
        var fromReadyz = folder.Starts.Values.All(s => s.WindowFrom == ColdStart.FromReadyz);
        var answer = fromReadyz ? "`/readyz` first answers 200" : "`/healthz` first answers (this folder predates issue 21: not the window of its target)";
        var cold = folder.Embedded.Where(r => r.Scenario == "cold" && r.Who == HarnessRun.Ours && folder.Starts.ContainsKey(r.Round))
            .OrderBy(r => r.Round)
            .Select(r =>
            {
                var start = folder.Starts[r.Round];
                var window = start.Measured(r) is { } m ? $"measured {Format(m.From, "0.0")}–{Format(m.To, "0.0")} s after /{start.WindowFrom}" : "measured at an unrecorded time";
                return $"r{r.Round}: /readyz {Format(start.ReadyzSeconds, "0.00")} s after exec, {window}";
            })
            .ToArray();
        Line("- **Our server** (embedded): a fresh `WebFrontend` process (published ReadyToRun, Release) per round, on a free 127.0.0.1 port. First the **cold start**: "
            + $"launched (the time taken just before its exec), then `{folder.Setting("spec.cold")}` started the moment {answer}; the harness then starts, connects its sockets and measures "
            + $"({(cold.Length == 0 ? "not recorded" : Join(cold, "; "))}). The connect takes the first second or two of the window; the measured seconds are the ones after it. "
            + "Its ops/s over the same round's warm joinleave of ours (same sockets, D apart) is the *ready* ratio. "
            + "Then the **warm-up**: one short run of each of joinleave, fanout and memberships against it, discarded "
            + $"(`{folder.Setting("warm.joinleave")}`, `{folder.Setting("warm.fanout")}`, `{folder.Setting("warm.memberships")}`). Then the scenarios side by side.");
        if (folder.Run.ContainsKey("spec.idle") || folder.Embedded.Any(r => r.Scenario == "idle"))
        {
            Line($"- **Idle sockets** (`{folder.Setting("spec.idle")}`, side by side): after the round's scenarios, a second fresh server of ours, started as above, "
                + "as the harness starts each peer fresh for its run: a server whose heap the earlier scenarios grew would take new sockets into memory it already holds. "
                + "RSS per socket = (the server's VmRSS 1 s after the last socket connected − its VmRSS just before the first connect) / the sockets connected; the harness reads both itself "
                + "(`rss_kb.idle`, `rss_kb.connected`, the same way for every target, from `/proc/PID/status`), so the pre-connect baseline is the harness's own for peers and ours alike. "
                + "Nothing is joined before the second read (the scenario's joins of one room each come after it and are not counted here).");
        }

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
        Line("## Issue 21's targets");
        Line();
        Line("Each a ratio ours/peer from the same round (ours cold over ours warm for the first seconds after `/readyz`; seconds for `/readyz` itself), then the median of the rounds; *met* compares the median with the goal.");
        Line();
        if (folder.Setting("quick", "0") == "1")
        {
            Line("**`--quick`: the scenarios were far smaller than these names say** (a \"10,000-member room\" was a few hundred; see the scenario sizes above): these tables only show that every target is computed.");
            Line();
        }

        foreach (var (shape, title, runs) in new[] { ("embedded", "Embedded (one front end with its own silo)", folder.Embedded), ("cluster", "Cluster (2 silos + 2 front ends)", folder.Cluster) })
        {
            int[] rounds = shape == "embedded" ? [.. runs.Select(r => r.Round).Concat(folder.Starts.Keys).Distinct().Order()] : Rounds(runs);
            Line($"### {title}: {rounds.Length} round{(rounds.Length == 1 ? "" : "s")}");
            Line();
            if (rounds.Length == 0)
            {
                Line("Not measured in this run.");
                Line();
                continue;
            }

            Line($"| target | {Join(rounds.Select(r => $"r{r}"), " | ")} | median | goal | met |");
            Line($"|---|{string.Concat(rounds.Select(_ => "---:|"))}---:|:---:|:---:|");
            foreach (var target in Target.All.Where(t => t.Shape == shape))
            {
                var values = target.PerRound(runs, rounds, folder.Starts);
                var (median, met) = target.Judge(values);
                var format = $"F{target.Decimals}";
                Line($"| {target.Label} | {Join(values.Select(v => Format(v.Value, format)), " | ")} | {Format(median, format)} | {target.GoalText} | {met switch { true => "met", false => "**not met**", null => "not measured" }} |");
            }

            Line();
        }

        Line("### Checked elsewhere");
        Line();
        Line($"Targets of issue 21 that `benchmarks/run` does not measure, and where each is checked instead (from [`{ElsewhereFile}`]({ElsewhereFile}), kept by hand):");
        Line();
        var items = ElsewhereItems(elsewhere);
        if (items.Count == 0)
        {
            Line($"*`{ElsewhereFile}` is missing or lists nothing.*");
        }

        foreach (var item in items)
        {
            Line(item);
        }

        Line();
    }

    /// <summary>The lines of benchmarks/targets-elsewhere.md that the report prints: everything but its heading
    /// lines and its HTML comments (which say how to edit it), blank lines at either end dropped.</summary>
    internal static IReadOnlyList<string> ElsewhereItems(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var body = Regex.Replace(text.Replace("\r\n", "\n"), "<!--.*?-->", "", RegexOptions.Singleline);
        var lines = body.Split('\n').Select(l => l.TrimEnd()).Where(l => !l.StartsWith('#')).ToList();
        while (lines.Count > 0 && lines[0].Length == 0)
        {
            lines.RemoveAt(0);
        }

        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
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
            Metric.RssPerSocketKb, Metric.RssBeforeConnectMb, Metric.RssConnectedMb, Metric.CrossDeliveryP99, Metric.CrossLost, Metric.KickP99, Metric.ReceivingAfterKick,
        })
        {
            Line($"- **{metric.Label}**: {metric.Meaning}.");
        }

        Line("- **checks**: `ok` when the harness counted no errors (failed or wrong answers, failed connects) and no failures (lost, leaked or duplicate deliveries, wrong subscriber lists); otherwise the counts (the raw line's `counts` and `notes` say which).");
        Line("- **ready: /readyz after exec**: seconds from the launch of our fresh server (just before its exec) to the first 200 of its `/readyz`, polled every 50 ms.");
        Line("- **ready: ops/s in the first 10 s after /readyz vs warm**: ours' ops/s in the cold run (started when `/readyz` first answered 200) over ours' ops/s in the warm joinleave of the same round (same sockets; D apart).");
        Line("- **ratio**: ours divided by the peer's number from the same round; above 1 is better for rates, below 1 for latencies, CPU and memory.");
        Line();
    }

    private static int[] Rounds(IEnumerable<HarnessRun> runs) => [.. runs.Select(r => r.Round).Distinct().Order()];

    private static string Format(double? value, string format) => value is { } v ? v.ToString(format, Invariant) : "—";

    private static string Join(IEnumerable<string> parts, string separator = ", ") => string.Join(separator, parts);

    private void Line(string text = "") => _md.Append(text).Append('\n');
}
