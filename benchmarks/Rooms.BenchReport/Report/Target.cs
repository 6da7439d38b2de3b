using Orleans.Rooms.BenchReport.Results;

namespace Orleans.Rooms.BenchReport.Report;

internal enum Goal
{
    AtLeast,
    AtMost,
}

/// <summary>
/// One of issue 21's targets as benchmarks/run measures it: per round a value (a ratio of ours to a peer in the
/// same round, ours cold over ours warm, or seconds of ours' start), then the median of the rounds against
/// <see cref="Bound"/>.
/// </summary>
internal sealed record Target(string Label, string Shape, string Scenario, Goal Goal, double Bound, string Unit, int Decimals, Func<Target.Inputs, int, double?> Value)
{
    /// <summary>What a target's value is computed from: one shape's harness runs and, embedded, the cold starts.</summary>
    internal sealed record Inputs(IReadOnlyList<HarnessRun> Runs, IReadOnlyDictionary<int, ColdStart> Starts);

    public const string Times = "×";
    public const string Seconds = " s";

    public string GoalText => $"{(Goal == Goal.AtLeast ? "≥" : "≤")} {Bound:0.##}{Unit}";

    public bool Meets(double value) => Goal == Goal.AtLeast ? value >= Bound : value <= Bound;

    /// <summary>The value of this target in each of <paramref name="rounds"/> (null where a run is missing or failed).</summary>
    public IReadOnlyList<(int Round, double? Value)> PerRound(IReadOnlyList<HarnessRun> runs, IEnumerable<int> rounds, IReadOnlyDictionary<int, ColdStart>? starts = null)
    {
        var inputs = new Inputs(runs, starts ?? new Dictionary<int, ColdStart>());
        return [.. rounds.Select(round => (round, Value(inputs, round)))];
    }

    /// <summary>The median of the rounds' values and whether it meets the goal (null: nothing measured).</summary>
    public (double? Median, bool? Met) Judge(IEnumerable<(int Round, double? Value)> values)
    {
        var median = Stats.Median(values.Select(v => v.Value));
        return (median, median is { } m ? Meets(m) : null);
    }

    /// <summary>ours / <paramref name="peer"/> of <paramref name="metric"/> in the same round and scenario.</summary>
    public static Target Vs(string label, string shape, string scenario, Metric metric, string peer, Goal goal, double bound)
        => new(label, shape, scenario, goal, bound, Times, 2, (inputs, round) =>
        {
            var ours = Find(inputs.Runs, round, scenario, HarnessRun.Ours);
            var theirs = Find(inputs.Runs, round, scenario, peer);
            return ours is null || theirs is null ? null : Stats.Ratio(metric.Read(ours), metric.Read(theirs));
        });

    /// <summary>
    /// Ours in the cold window over ours warm (<paramref name="warmScenario"/>, same round, same spec but D), counted
    /// only where the cold window was measured from the first 200 of <c>/readyz</c> (folders before issue 21
    /// measured it from <c>/healthz</c>: another window, so not this target).
    /// </summary>
    public static Target ColdVsWarm(string label, string scenario, string warmScenario, Metric metric, Goal goal, double bound)
        => new(label, "embedded", scenario, goal, bound, Times, 2, (inputs, round) =>
        {
            if (!inputs.Starts.TryGetValue(round, out var start) || start.WindowFrom != ColdStart.FromReadyz)
            {
                return null;
            }

            var cold = Find(inputs.Runs, round, scenario, HarnessRun.Ours);
            var warm = Find(inputs.Runs, round, warmScenario, HarnessRun.Ours);
            return cold is null || warm is null ? null : Stats.Ratio(metric.Read(cold), metric.Read(warm));
        });

    /// <summary>Seconds from our server's exec to the first 200 of its <c>/readyz</c>, in the round's cold start.</summary>
    public static Target ReadyzAfterExec(string label, Goal goal, double bound)
        => new(label, "embedded", "cold", goal, bound, Seconds, 2,
            (inputs, round) => inputs.Starts.TryGetValue(round, out var start) ? start.ReadyzSeconds : null);

    /// <summary>A run that answered (a run the harness could not make has an error and no numbers to compare).</summary>
    private static HarnessRun? Find(IReadOnlyList<HarnessRun> runs, int round, string scenario, string who)
        => runs.FirstOrDefault(r => r.Round == round && r.Scenario == scenario && r.Who == who) is { Error: null } run ? run : null;

    /// <summary>Issue 21's "Targets" that benchmarks/run measures, each as this report checks it (the others are
    /// listed from benchmarks/targets-elsewhere.md).</summary>
    public static readonly IReadOnlyList<Target> All =
    [
        Vs("joinleave ops/s vs signalr", "embedded", "joinleave", Metric.OpsPerS, "signalr", Goal.AtLeast, 1.0),
        Vs("joinleave server CPU/op vs signalr", "embedded", "joinleave", Metric.CpuPerOp, "signalr", Goal.AtMost, 1.0),
        Vs("joinleave ops/s vs sails", "embedded", "joinleave", Metric.OpsPerS, "sails", Goal.AtLeast, 3.0),
        ReadyzAfterExec("ready: /readyz after exec", Goal.AtMost, 10),
        ColdVsWarm("ready: ops/s in the first 10 s after /readyz vs warm", "cold", "joinleave", Metric.OpsPerS, Goal.AtLeast, 0.8),
        Vs("fanout (500) server CPU/delivery vs sails", "embedded", "fanout", Metric.CpuPerDelivery, "sails", Goal.AtMost, 0.8),
        Vs("fanout (500) delivery p99 vs sails", "embedded", "fanout", Metric.DeliveryP99, "sails", Goal.AtMost, 1.0),
        Vs("5,000-member room deliveries/s vs sails", "embedded", "fanout5000", Metric.DeliveriesPerS, "sails", Goal.AtLeast, 1.0),
        Vs("5,000-member room delivery p99 vs sails", "embedded", "fanout5000", Metric.DeliveryP99, "sails", Goal.AtMost, 1.0),
        Vs("5,000-member room server CPU/delivery vs sails", "embedded", "fanout5000", Metric.CpuPerDelivery, "sails", Goal.AtMost, 1.0),
        Vs("10,000-member room deliveries/s vs sails", "embedded", "fanout10000", Metric.DeliveriesPerS, "sails", Goal.AtLeast, 1.0),
        Vs("10,000-member room delivery p99 vs sails", "embedded", "fanout10000", Metric.DeliveryP99, "sails", Goal.AtMost, 1.0),
        Vs("10,000-member room server CPU/delivery vs sails", "embedded", "fanout10000", Metric.CpuPerDelivery, "sails", Goal.AtMost, 1.0),
        Vs("memberships/s vs sails", "embedded", "memberships", Metric.MembershipsPerS, "sails", Goal.AtLeast, 3.0),
        Vs("RSS per idle socket (5,000 sockets) vs sails", "embedded", "idle", Metric.RssPerSocketKb, "sails", Goal.AtMost, 1.2),
        Vs("cluster joinleave ops/s vs sails-redis", "cluster", "joinleave", Metric.OpsPerS, "sails-redis", Goal.AtLeast, 2.0),
        Vs("crossnode kick p99 vs sails-redis", "cluster", "crossnode", Metric.KickP99, "sails-redis", Goal.AtMost, 0.5),
    ];
}
