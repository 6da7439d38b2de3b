using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Orleans.Rooms.Membership;

/// <summary>
/// Whether the cluster may be healing, as this silo sees it: a silo started leaving, stopped or died less than
/// <see cref="GrainLimits.HealWindow"/> ago (or this silo found silos gone when it first looked). A grain that
/// activates in that window may be a grain whose previous activation was lost with its silo, before the front
/// ends have listed it again; it must not answer as if it were empty (docs/design.md, "Healing").
/// </summary>
/// <remarks>
/// It looks at the membership only when asked (a grain's activation), comparing with what it saw last: a loss
/// noticed late only starts the window late, which keeps the answer on the safe side.
/// </remarks>
internal sealed partial class ClusterHealing(IClusterMembershipService membership, ILocalSiloDetails local, TimeProvider time, ILogger<ClusterHealing> logger) : IHealWindow
{
    private readonly object _lock = new();
    private Dictionary<SiloAddress, SiloStatus>? _seen;
    private MembershipVersion _seenVersion;
    private long _windowEnds;

    /// <summary>When the current healing window ends (a <see cref="TimeProvider"/> timestamp), or null when there is none.</summary>
    public long? WindowEnds()
    {
        lock (_lock)
        {
            var now = time.GetTimestamp();
            var snapshot = membership.CurrentSnapshot;
            if (_seen is not null && snapshot.Version == _seenVersion)
            {
                return _windowEnds > now ? _windowEnds : null; // nothing changed since it last looked: asked on hot paths too
            }

            var members = snapshot.Members;
            List<string>? lost = null;
            foreach (var (address, member) in members)
            {
                if (address.Equals(local.SiloAddress) || !IsGoing(member.Status))
                {
                    continue;
                }

                // First look: any silo gone may have taken grains this silo is about to activate.
                if (_seen is null || !_seen.TryGetValue(address, out var before) || before != member.Status)
                {
                    (lost ??= []).Add($"{address} {member.Status}");
                }
            }

            var firstLook = _seen is null;
            _seen = members.ToDictionary(m => m.Key, m => m.Value.Status);
            _seenVersion = snapshot.Version;
            if (lost is not null)
            {
                _windowEnds = now + (long)(GrainLimits.HealWindow.TotalSeconds * time.TimestampFrequency);
                LogWindowOpened(GrainLimits.HealWindow.TotalSeconds, snapshot.Version.Value, string.Join(", ", lost), firstLook ? "this silo's first look at the cluster" : "changed since this silo last looked");
            }

            return _windowEnds > now ? _windowEnds : null;
        }
    }

    public TimeSpan? Remaining => WindowEnds() is { } ends ? time.GetElapsedTime(time.GetTimestamp(), ends) : null;

    private static bool IsGoing(SiloStatus status) => status is SiloStatus.ShuttingDown or SiloStatus.Stopping or SiloStatus.Dead;

    /// <summary>What <c>GET /cluster</c>'s <c>healingSeconds</c> shows while it lasts, in the log for good (scripts and tests read it).</summary>
    [LoggerMessage(1, LogLevel.Information, "Heal window open for {Seconds} s from membership version {Version}: {Silos} ({Seen})")]
    private partial void LogWindowOpened(double seconds, long version, string silos, string seen);
}
