using Orleans.Rooms.BenchReport.Results;

namespace Orleans.Rooms.BenchReport.Report;

/// <summary>A number read from a harness run's result, with what it means.</summary>
internal sealed record Metric(string Label, string Meaning, Func<HarnessRun, double?> Read, int Decimals = 1)
{
    public static Metric At(string path, string label, string meaning, int decimals = 1) => new(label, meaning, r => r.Number(path), decimals);

    public static readonly Metric OpsPerS = At("ops_per_s", "ops/s",
        "join or leave requests answered per second by all sockets together (one op = one request)");
    public static readonly Metric OpLatencyP50 = At("latency_ms.p50", "op p50 ms", "median time from sending a join/leave to its answer", 2);
    public static readonly Metric OpLatencyP99 = At("latency_ms.p99", "op p99 ms", "99th percentile of that time", 2);
    public static readonly Metric CpuPerOp = At("server_cpu_us_per_op", "server CPU µs/op",
        "CPU the server process(es) used while measuring, divided by the ops (user + system, all cores)");
    public static readonly Metric DeliveriesPerS = At("deliveries_per_s", "deliveries/s",
        "members × broadcasts divided by the time from the first send to the last delivery", 0);
    public static readonly Metric DeliveryP50 = At("delivery_latency_ms.p50", "delivery p50 ms",
        "median time from a broadcast's send (stamped in its payload) to its arrival at one member", 2);
    public static readonly Metric DeliveryP99 = At("delivery_latency_ms.p99", "delivery p99 ms", "99th percentile of that time", 2);
    public static readonly Metric CpuPerDelivery = At("server_cpu_us_per_delivery", "server CPU µs/delivery",
        "server CPU while broadcasting divided by the deliveries", 2);
    public static readonly Metric Lost = At("lost_deliveries", "lost", "deliveries that never arrived", 0);
    public static readonly Metric MembershipsPerS = At("memberships_per_s", "memberships/s",
        "joins answered per second while every socket joins its rooms at once", 0);
    public static readonly Metric MembershipJoinP99 = At("join_latency_ms.p99", "join p99 ms", "99th percentile of one join's answer time", 1);
    public static readonly Metric CpuPerMembership = At("server_cpu_us_per_membership", "server CPU µs/membership",
        "server CPU while joining divided by the memberships");
    public static readonly Metric RssPerMembershipKb = new("RSS KB/membership",
        "growth of the server's resident memory (VmRSS) from all sockets connected to all rooms joined, divided by the memberships",
        r => PerUnit(r.Number("rss_delta_kb.join"), r.Number("memberships")), 2);
    public static readonly Metric RssPerSocketKb = new("RSS KB/socket",
        "growth of the server's resident memory from idle to all sockets connected (nothing joined), divided by the sockets",
        r => PerUnit(r.Number("rss_delta_kb.connect"), r.Number("sockets")), 2);
    public static readonly Metric RssBeforeConnectMb = new("RSS before connect MB",
        "the server's resident memory (VmRSS, all its processes) read by the harness just before its first connect", r => Mb(r.Number("rss_kb.idle")), 1);
    public static readonly Metric RssConnectedMb = new("RSS connected MB",
        "the same 1 s after the last socket connected, nothing joined yet", r => Mb(r.Number("rss_kb.connected")), 1);
    public static readonly Metric CrossDeliveryP99 = At("delivery_latency_ms.B.p99", "A→B delivery p99 ms",
        "99th percentile delivery time of a broadcast sent on server A to members on server B", 2);
    public static readonly Metric CrossLost = new("lost", "deliveries lost on either side, both directions",
        r => (r.Number("lost.A") ?? 0) + (r.Number("lost.B") ?? 0) + (r.Number("lost.reverse") ?? 0), 0);
    public static readonly Metric KickP99 = At("kick.latency_ms.p99", "kick p99 ms", "99th percentile answer time of a kick by id of a socket on the other server", 2);
    public static readonly Metric ReceivingAfterKick = At("kick.sockets_receiving_after_kick_answer", "receiving after kick",
        "kicked sockets that still got a broadcast sent after their kick was answered", 0);

    private static double? Mb(double? kb) => kb / 1024;

    /// <summary>A delta per unit; negative deltas stay (RSS can shrink while measuring), shown as measured.</summary>
    private static double? PerUnit(double? delta, double? units) => delta is { } d && units is > 0 ? d / units!.Value : null;
}
