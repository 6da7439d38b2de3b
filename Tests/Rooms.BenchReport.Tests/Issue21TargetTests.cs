using System.Globalization;
using Orleans.Rooms.BenchReport.Report;
using Orleans.Rooms.BenchReport.Results;

namespace Orleans.Rooms.BenchReport.Tests;

/// <summary>Issue 21's targets as the report reads and judges them: the cold window from /readyz, /readyz after
/// exec, the RSS of an idle socket, the cluster's own rounds, and the targets checked elsewhere.</summary>
public sealed class Issue21TargetTests
{
    // r1-cold.start.json as benchmarks/run writes it since issue 21, and as it wrote it before (window from /healthz).
    private const string StartFromReadyz = """{"round":2,"launched_ms":1795738491979,"readyz_ms":1795738493229,"window_from":"readyz"}""";
    private const string StartFromHealthz = """{"round":1,"launched_ms":1795738491979,"ready_ms":1795738493439,"readyz_ms":null}""";

    [Fact]
    public void AColdStartFromReadyzGivesReadyzAfterExecAndTheMeasuredWindowCountedFromReadyz()
    {
        var start = ColdStart.Parse(StartFromReadyz);
        // The driver started 0.4 s after /readyz and connected for 1.84 s; it measured for 2.01 s.
        var began = DateTimeOffset.FromUnixTimeMilliseconds(1795738493229 + 400).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var cold = HarnessRun.Parse(HarnessLineTests.OursJoinLeave.Replace("2026-11-26T15:48:19.781Z", began), "cold", 2);

        Assert.Equal((2, ColdStart.FromReadyz), (start.Round, start.WindowFrom));
        Assert.Equal(1.25, start.ReadyzSeconds!.Value, 6);
        var (from, to) = start.Measured(cold)!.Value;
        Assert.Equal(2.24, from, 6);
        Assert.Equal(4.25, to, 6);
    }

    [Fact]
    public void AColdStartFromBeforeIssue21IsReadAsAHealthzWindowAndIsNotTheReadyTarget()
    {
        var start = ColdStart.Parse(StartFromHealthz);
        var target = Target.All.Single(t => t.Label.StartsWith("ready: ops/s", StringComparison.Ordinal));
        var cold = HarnessRun.Parse(HarnessLineTests.OursJoinLeave, "cold", 1);
        var warm = HarnessRun.Parse(HarnessLineTests.OursJoinLeave, "joinleave", 1);

        Assert.Equal(ColdStart.FromHealthz, start.WindowFrom);
        Assert.Equal(1795738493439, start.WindowStartMs);
        Assert.Null(start.ReadyzSeconds); // /readyz came after that window and was not recorded
        Assert.Null(Assert.Single(target.PerRound([cold, warm], [1], new Dictionary<int, ColdStart> { [1] = start })).Value);
    }

    [Fact]
    public void ReadyzAfterExecIsSecondsPerRoundJudgedAgainstTenSeconds()
    {
        var target = Target.All.Single(t => t.Label == "ready: /readyz after exec");
        var starts = new Dictionary<int, ColdStart>
        {
            [1] = new(1, 0, 1250, null, ColdStart.FromReadyz),
            [2] = new(2, 0, 12000, null, ColdStart.FromReadyz),
            [3] = new(3, 0, 900, null, ColdStart.FromReadyz),
        };

        var values = target.PerRound([], [1, 2, 3, 4], starts);
        var (median, met) = target.Judge(values);

        Assert.Equal([1.25, 12.0, 0.9, null], values.Select(v => v.Value));
        Assert.Equal(1.25, median);
        Assert.True(met);
        Assert.Equal("≤ 10 s", target.GoalText);
    }

    [Fact]
    public void RssPerIdleSocketIsTheConnectDeltaOverTheSocketsAgainstSailsTimesOnePointTwo()
    {
        var target = Target.All.Single(t => t.Scenario == "idle");
        var sails = HarnessRun.Parse(Idle("sails", idleKb: 99_536, connectedKb: 169_536), "idle", 1); // 14.0 KB/socket
        var ours = HarnessRun.Parse(Idle("url:http://127.0.0.1:1", idleKb: 180_000, connectedKb: 257_000), "idle", 1); // 15.4 KB/socket
        var fat = HarnessRun.Parse(Idle("url:http://127.0.0.1:1", idleKb: 180_000, connectedKb: 332_000), "idle", 2); // 30.4 KB/socket
        var sails2 = HarnessRun.Parse(Idle("sails", idleKb: 99_536, connectedKb: 169_536), "idle", 2);

        var values = target.PerRound([sails, ours, fat, sails2], [1, 2]);

        Assert.Equal(14.0, Metric.RssPerSocketKb.Read(sails));
        Assert.Equal(99_536 / 1024.0, Metric.RssBeforeConnectMb.Read(sails2));
        Assert.Equal(169_536 / 1024.0, Metric.RssConnectedMb.Read(sails2));
        Assert.Equal(1.1, values[0].Value!.Value, 6);
        Assert.True(target.Meets(values[0].Value!.Value));
        Assert.False(target.Meets(values[1].Value!.Value));
        Assert.Equal("≤ 1.2×", target.GoalText);
    }

    [Fact]
    public void APeerRunThatFailedGivesNoRatioForItsRound()
    {
        var target = Target.All.Single(t => t.Label == "joinleave ops/s vs sails");
        var ours = HarnessRun.Parse(HarnessLineTests.OursJoinLeave, "joinleave", 1);
        var failed = HarnessRun.Parse("""{"target":"sails","scenario":"joinleave","error":"run failed (see stderr)"}""", "joinleave", 1);

        Assert.Null(Assert.Single(target.PerRound([ours, failed], [1])).Value);
    }

    [Fact]
    public void EveryTargetOfIssue21ThatTheRunMeasuresIsInTheTable()
    {
        var measured = Target.All.Select(t => (t.Shape, t.Scenario)).ToHashSet();

        Assert.Equal(17, Target.All.Count);
        Assert.Equal(Target.All.Count, Target.All.Select(t => t.Label).Distinct().Count());
        foreach (var scenario in new[] { "joinleave", "cold", "fanout", "fanout5000", "fanout10000", "memberships", "idle" })
        {
            Assert.Contains(("embedded", scenario), measured);
        }

        Assert.Contains(("cluster", "joinleave"), measured);
        Assert.Contains(("cluster", "crossnode"), measured);
    }

    [Fact]
    public void TheClusterIsJudgedOnItsOwnFiveRoundsAndTheEmbeddedOnItsThree()
    {
        var folder = Directory.CreateTempSubdirectory("bench-report-test-");
        try
        {
            Directory.CreateDirectory(Path.Combine(folder.FullName, "embedded"));
            Directory.CreateDirectory(Path.Combine(folder.FullName, "cluster"));
            File.WriteAllLines(Path.Combine(folder.FullName, "run.txt"), ["rounds=3", "cluster_rounds=5", "quick=0"]);
            for (var r = 1; r <= 3; r++)
            {
                File.WriteAllLines(Path.Combine(folder.FullName, "embedded", $"r{r}-joinleave.jsonl"), [JoinLeave("sails", 1000), JoinLeave("url:http://127.0.0.1:1", 3500)]);
            }

            // ours / sails-redis per round: 1.5, 2.5, 2.1, 1.9, 3.0 → median 2.1, met (≥ 2×).
            double[] ours = [1500, 2500, 2100, 1900, 3000];
            for (var r = 1; r <= 5; r++)
            {
                File.WriteAllLines(Path.Combine(folder.FullName, "cluster", $"r{r}-joinleave.jsonl"), [JoinLeave("sails-redis", 1000), JoinLeave("url:http://127.0.0.1:1,http://127.0.0.1:2", ours[r - 1])]);
            }

            var markdown = new MarkdownReport(ResultsFolder.Load(folder.FullName), [], "curves", "results").Render();

            Assert.Contains("## Issue 21's targets", markdown);
            Assert.DoesNotContain("Issue 8's targets", markdown);
            Assert.Contains("### Embedded (one front end with its own silo): 3 rounds", markdown);
            Assert.Contains("### Cluster (2 silos + 2 front ends): 5 rounds", markdown);
            Assert.Contains("| joinleave ops/s vs sails | 3.50 | 3.50 | 3.50 | 3.50 | ≥ 3× | met |", markdown);
            Assert.Contains("| cluster joinleave ops/s vs sails-redis | 1.50 | 2.50 | 2.10 | 1.90 | 3.00 | 2.10 | ≥ 2× | met |", markdown);
            Assert.Contains("| crossnode kick p99 vs sails-redis | — | — | — | — | — | — | ≤ 0.5× | not measured |", markdown);
            Assert.Contains("- **Rounds:** embedded 3, cluster 5", markdown);
            foreach (var target in Target.All)
            {
                Assert.Contains($"| {target.Label} |", markdown);
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void TheTargetsCheckedElsewhereArePrintedFromTheFileWithoutItsCommentsAndHeadings()
    {
        const string file = "<!--\nhow to edit\n-->\n# Checked elsewhere\n\n- **No grain per idle socket**: where: (to be filled in)\n- **Cost model**: where: CostModelTests.Messages\n\n";

        Assert.Equal(["- **No grain per idle socket**: where: (to be filled in)", "- **Cost model**: where: CostModelTests.Messages"], MarkdownReport.ElsewhereItems(file));
        Assert.Empty(MarkdownReport.ElsewhereItems(null));

        var folder = Directory.CreateTempSubdirectory("bench-report-test-");
        try
        {
            var results = ResultsFolder.Load(folder.FullName);
            var with = new MarkdownReport(results, [], "curves", "results", elsewhere: file).Render();
            var without = new MarkdownReport(results, [], "curves", "results").Render();

            Assert.Contains("### Checked elsewhere", with);
            Assert.Contains("- **Cost model**: where: CostModelTests.Messages", with);
            Assert.DoesNotContain("how to edit", with);
            Assert.Contains("`benchmarks/targets-elsewhere.md` is missing or lists nothing.", without);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void TheCommittedTargetsElsewhereFileListsItsItems()
    {
        var repo = AppContext.BaseDirectory;
        while (repo is not null && !File.Exists(Path.Combine(repo, "Orleans.Rooms.sln")))
        {
            repo = Path.GetDirectoryName(repo);
        }

        Assert.NotNull(repo);
        var items = MarkdownReport.ElsewhereItems(File.ReadAllText(Path.Combine(repo, MarkdownReport.ElsewhereFile)));
        Assert.Contains(items, i => i.Contains("activates no grain", StringComparison.Ordinal));
        Assert.All(items, i => Assert.StartsWith("- ", i, StringComparison.Ordinal));
    }

    private static string JoinLeave(string target, double ops)
        => HarnessLineTests.SignalrJoinLeave.Replace("\"target\":\"signalr\"", $"\"target\":\"{target}\"").Replace("\"ops_per_s\":4813.6", $"\"ops_per_s\":{ops.ToString(CultureInfo.InvariantCulture)}");

    // A memberships line of the idle scenario (S=5000 R=1), trimmed to what the report reads.
    private static string Idle(string target, long idleKb, long connectedKb)
        => "{\"target\":\"" + target + "\",\"scenario\":\"memberships\",\"ok\":true,\"errors\":0,\"failures\":0,\"result\":{\"sockets\":5000,\"rooms_per_socket\":1,\"memberships\":5000,"
            + $"\"rss_kb\":{{\"idle\":[{idleKb}],\"connected\":[{connectedKb}],\"joined\":[{connectedKb + 9000}]}},\"rss_before_kb\":[{connectedKb}],\"rss_after_kb\":[{connectedKb + 9000}],"
            + $"\"rss_delta_kb\":{{\"connect\":[{connectedKb - idleKb}],\"join\":[9000]}}}}}}";
}
