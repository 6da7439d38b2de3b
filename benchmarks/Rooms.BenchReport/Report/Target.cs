using Orleans.Rooms.BenchReport.Results;

namespace Orleans.Rooms.BenchReport.Report;

internal enum Goal
{
    AtLeast,
    AtMost,
}

/// <summary>One of issue 8's targets: a ratio of ours to a peer in the same round (<see cref="Peer"/> set),
/// a number of ours alone (<see cref="Peer"/> null), or, for the cold start, ours cold over ours warm.</summary>
internal sealed record Target(string Label, string Shape, string Scenario, Metric Metric, string? Peer, Goal Goal, double Bound, string? WarmScenario = null)
{
    public string GoalText => $"{(Goal == Goal.AtLeast ? "≥" : "≤")} {Bound:0.##}{(Peer is null && WarmScenario is null ? "" : "×")}";

    public bool Meets(double value) => Goal == Goal.AtLeast ? value >= Bound : value <= Bound;

    /// <summary>The value of this target in each round present in <paramref name="runs"/> (null where a run is missing).</summary>
    public IReadOnlyList<(int Round, double? Value)> PerRound(IReadOnlyList<HarnessRun> runs, IEnumerable<int> rounds)
        => [.. rounds.Select(round => (round, ValueIn(runs, round)))];

    private double? ValueIn(IReadOnlyList<HarnessRun> runs, int round)
    {
        var ours = Find(runs, round, Scenario, HarnessRun.Ours);
        if (ours is null || ours.Error is not null)
        {
            return null;
        }

        if (WarmScenario is not null)
        {
            return Stats.Ratio(Metric.Read(ours), Find(runs, round, WarmScenario, HarnessRun.Ours) is { } warm ? Metric.Read(warm) : null);
        }

        if (Peer is null)
        {
            return Metric.Read(ours);
        }

        var peer = Find(runs, round, Scenario, Peer);
        return peer is null || peer.Error is not null ? null : Stats.Ratio(Metric.Read(ours), Metric.Read(peer));
    }

    private static HarnessRun? Find(IReadOnlyList<HarnessRun> runs, int round, string scenario, string who)
        => runs.FirstOrDefault(r => r.Round == round && r.Scenario == scenario && r.Who == who);

    /// <summary>Issue 8's "Targets", each as this report checks it.</summary>
    public static readonly IReadOnlyList<Target> All =
    [
        new("joinleave ops/s vs signalr", "embedded", "joinleave", Metric.OpsPerS, "signalr", Goal.AtLeast, 1.0),
        new("joinleave server CPU/op vs signalr", "embedded", "joinleave", Metric.CpuPerOp, "signalr", Goal.AtMost, 1.0),
        new("joinleave ops/s vs sails", "embedded", "joinleave", Metric.OpsPerS, "sails", Goal.AtLeast, 2.5),
        new("joinleave p99 vs sails", "embedded", "joinleave", Metric.OpLatencyP99, "sails", Goal.AtMost, 0.5),
        new("cold start: ops/s in the first seconds vs warm", "embedded", "cold", Metric.OpsPerS, null, Goal.AtLeast, 0.8, WarmScenario: "joinleave"),
        new("fanout server CPU/delivery vs sails", "embedded", "fanout", Metric.CpuPerDelivery, "sails", Goal.AtMost, 0.8),
        new("fanout delivery p99 vs sails", "embedded", "fanout", Metric.DeliveryP99, "sails", Goal.AtMost, 1.0),
        new("fanout lost deliveries", "embedded", "fanout", Metric.Lost, null, Goal.AtMost, 0),
        new("5,000-member room deliveries/s vs sails", "embedded", "fanout5000", Metric.DeliveriesPerS, "sails", Goal.AtLeast, 1.0),
        new("5,000-member room delivery p99 vs sails", "embedded", "fanout5000", Metric.DeliveryP99, "sails", Goal.AtMost, 1.0),
        new("10,000-member room deliveries/s vs sails", "embedded", "fanout10000", Metric.DeliveriesPerS, "sails", Goal.AtLeast, 1.0),
        new("10,000-member room delivery p99 vs sails", "embedded", "fanout10000", Metric.DeliveryP99, "sails", Goal.AtMost, 1.0),
        new("10,000-member room lost deliveries", "embedded", "fanout10000", Metric.Lost, null, Goal.AtMost, 0),
        new("memberships/s vs sails", "embedded", "memberships", Metric.MembershipsPerS, "sails", Goal.AtLeast, 3.0),
        new("RSS growth per membership (KB)", "embedded", "memberships", Metric.RssPerMembershipKb, null, Goal.AtMost, 2.0),
        new("RSS per connected socket vs sails", "embedded", "memberships", Metric.RssPerSocketKb, "sails", Goal.AtMost, 1.0),
        new("scale (10,000 sockets × 10 rooms): memberships/s vs sails", "embedded", "scale", Metric.MembershipsPerS, "sails", Goal.AtLeast, 3.0),
        new("scale: RSS growth per membership (KB)", "embedded", "scale", Metric.RssPerMembershipKb, null, Goal.AtMost, 2.0),
        new("scale: RSS per connected socket vs sails", "embedded", "scale", Metric.RssPerSocketKb, "sails", Goal.AtMost, 1.0),
        new("cluster joinleave ops/s vs sails-redis", "cluster", "joinleave", Metric.OpsPerS, "sails-redis", Goal.AtLeast, 1.5),
        new("cluster joinleave ops/s vs signalr-redis", "cluster", "joinleave", Metric.OpsPerS, "signalr-redis", Goal.AtLeast, 2.0),
        new("crossnode kick p99 vs sails-redis", "cluster", "crossnode", Metric.KickP99, "sails-redis", Goal.AtMost, 1.0),
        new("crossnode sockets receiving after the kick's answer", "cluster", "crossnode", Metric.ReceivingAfterKick, null, Goal.AtMost, 0),
    ];
}
