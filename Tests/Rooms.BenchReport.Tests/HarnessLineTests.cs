using Orleans.Rooms.BenchReport.Report;
using Orleans.Rooms.BenchReport.Results;

namespace Orleans.Rooms.BenchReport.Tests;

public sealed class HarnessLineTests
{
    // Captured from `../shared/bench/run compare joinleave C=10 D=2 -- sails signalr url:...` (notes and params trimmed).
    internal const string OursJoinLeave = """{"target":"url:http://127.0.0.1:54257","proto":"signalr","scenario":"joinleave","started":"2026-11-26T15:48:19.781Z","wall_s":4.96,"harness_s":5.34,"ok":true,"errors":0,"failures":0,"counts":{},"result":{"sockets":10,"seconds":2.01,"ops":1698,"ops_per_s":846.7,"cycles":849,"cycles_per_s":423.4,"latency_ms":{"n":1698,"p50":4.923,"p90":11.652,"p99":89.965,"max":681.09,"mean":11.379},"verify":{"cycles":40,"join_to_delivery_ms":{"n":40,"p50":4.306,"p90":26.694,"p99":73.068,"max":73.068,"mean":11.768}},"server_cpu_s":[1.06],"server_cpu_us_per_op":624.3},"connect":[{"n":10,"ok":10,"seconds":1.84}],"notes":[]}""";

    internal const string SignalrJoinLeave = """{"target":"signalr","proto":"signalr","scenario":"joinleave","started":"2026-11-26T15:48:15.133Z","wall_s":4.02,"harness_s":7.3,"ok":true,"errors":0,"failures":0,"counts":{},"result":{"sockets":10,"seconds":2,"ops":9634,"ops_per_s":4813.6,"cycles":4817,"cycles_per_s":2406.8,"latency_ms":{"n":9634,"p50":1.107,"p90":3.969,"p99":10.543,"max":112.243,"mean":1.964},"server_cpu_s":[1.62],"server_cpu_us_per_op":168.2},"connect":[],"notes":[]}""";

    [Fact]
    public void AUrlTargetIsOursAndItsNumbersAreReadByPath()
    {
        var run = HarnessRun.Parse(OursJoinLeave, "joinleave", round: 2);

        Assert.Equal(HarnessRun.Ours, run.Who);
        Assert.Equal(2, run.Round);
        Assert.True(run.Ok);
        Assert.Equal(846.7, run.Number("ops_per_s"));
        Assert.Equal(89.965, run.Number("latency_ms.p99"));
        Assert.Equal(1.06, run.Number("server_cpu_s")); // an array per server process reads as its sum
        Assert.Null(run.Number("latency_ms.p999"));
        Assert.Null(run.Number("nothing.here"));
        Assert.Equal(DateTimeOffset.Parse("2026-11-26T15:48:19.781Z").ToUnixTimeMilliseconds(), run.StartedMs);
        Assert.Equal(1.84, run.ConnectSeconds);
    }

    [Fact]
    public void AFailedRunKeepsItsErrorAndHasNoNumbers()
    {
        var run = HarnessRun.Parse("""{"target":"sails","scenario":"fanout","error":"run failed (see stderr)"}""", "fanout", 1);

        Assert.Equal("sails", run.Who);
        Assert.False(run.Ok);
        Assert.Equal("run failed (see stderr)", run.Error);
        Assert.Null(run.Number("deliveries_per_s"));
    }

    [Fact]
    public void MedianTakesTheMiddleOfWhatIsPresent()
    {
        Assert.Equal(2.0, Stats.Median([3.0, 1.0, 2.0]));
        Assert.Equal(2.5, Stats.Median([4.0, 1.0, null, 2.0, 3.0]));
        Assert.Null(Stats.Median([null, null]));
    }

    [Fact]
    public void RatioIsOursOverThePeerAndMissingWhereEitherIs()
    {
        Assert.Equal(0.5, Stats.Ratio(1, 2));
        Assert.Null(Stats.Ratio(1, 0));
        Assert.Null(Stats.Ratio(null, 2));
        Assert.Null(Stats.Ratio(1, -3)); // a negative RSS delta
        Assert.Null(Stats.Ratio(-1, 3));
    }

    [Fact]
    public void ATargetIsTheRatioInEachRoundAndItsMedianIsCheckedAgainstTheGoal()
    {
        var target = Target.All.Single(t => t.Label == "joinleave ops/s vs signalr");
        var runs = new[]
        {
            HarnessRun.Parse(OursJoinLeave, "joinleave", 1),
            HarnessRun.Parse(SignalrJoinLeave, "joinleave", 1),
            HarnessRun.Parse(OursJoinLeave, "joinleave", 2),
        };

        var values = target.PerRound(runs, [1, 2]);

        Assert.Equal(846.7 / 4813.6, values[0].Value!.Value, 6);
        Assert.Null(values[1].Value); // no signalr run in round 2
        Assert.False(target.Meets(Stats.Median(values.Select(v => v.Value))!.Value));
        Assert.Equal("≥ 1×", target.GoalText);
    }

    [Fact]
    public void TheColdStartIsOursColdOverOursWarmInTheSameRound()
    {
        var target = Target.All.Single(t => t.Label.StartsWith("ready: ops/s", StringComparison.Ordinal));
        var cold = HarnessRun.Parse(OursJoinLeave.Replace("\"ops_per_s\":846.7", "\"ops_per_s\":423.35"), "cold", 1);
        var warm = HarnessRun.Parse(OursJoinLeave, "joinleave", 1);
        var starts = new Dictionary<int, ColdStart> { [1] = new(1, 1000, 2250, null, ColdStart.FromReadyz) };

        var value = Assert.Single(target.PerRound([cold, warm], [1], starts)).Value;

        Assert.Equal(0.5, value!.Value, 6);
        Assert.False(target.Meets(value.Value));
    }

    [Fact]
    public void RssPerSocketAndPerMembershipComeFromTheDeltasOverTheCounts()
    {
        var run = HarnessRun.Parse("""{"target":"url:http://127.0.0.1:1","ok":true,"errors":0,"failures":0,"result":{"sockets":1000,"memberships":10000,"rss_delta_kb":{"connect":[20000],"join":[15000]}}}""", "memberships", 1);

        Assert.Equal(20.0, Metric.RssPerSocketKb.Read(run));
        Assert.Equal(1.5, Metric.RssPerMembershipKb.Read(run));
    }

    [Fact]
    public void RunFilesAreFiledByRoundAndScenarioFromTheirNames()
    {
        var folder = Directory.CreateTempSubdirectory("bench-report-test-");
        try
        {
            File.WriteAllLines(Path.Combine(folder.FullName, "r3-fanout5000.jsonl"), [SignalrJoinLeave, "not json: skipped", OursJoinLeave]);
            File.WriteAllText(Path.Combine(folder.FullName, "r3-cold.start.json"), "{}"); // not a run file

            var runs = ResultsFolder.ReadRuns(folder.FullName);

            Assert.Equal(2, runs.Count);
            Assert.All(runs, r => Assert.Equal(("fanout5000", 3), (r.Scenario, r.Round)));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void TheResultsFoldersAnalysisBecomesTheSectionOnWhatBoundsTheTargetsNotMet()
    {
        var folder = Directory.CreateTempSubdirectory("bench-report-test-");
        try
        {
            Directory.CreateDirectory(Path.Combine(folder.FullName, "embedded"));
            File.WriteAllLines(Path.Combine(folder.FullName, "embedded", "r1-joinleave.jsonl"), [SignalrJoinLeave, OursJoinLeave]);
            var results = ResultsFolder.Load(folder.FullName);

            var with = new MarkdownReport(results, [], "curves", "results", "- joinleave: bounded by the transport.\n").Render();
            var without = new MarkdownReport(results, [], "curves", "results").Render();

            Assert.Contains("## What bounds the targets not met", with);
            Assert.Contains("- joinleave: bounded by the transport.", with);
            Assert.True(with.IndexOf("## What bounds", StringComparison.Ordinal) < with.IndexOf("## What the numbers mean", StringComparison.Ordinal));
            Assert.DoesNotContain("## What bounds", without);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
