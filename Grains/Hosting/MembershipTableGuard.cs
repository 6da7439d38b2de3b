using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Clustering.Redis;

namespace Orleans.Rooms.Hosting;

/// <summary>
/// Writes the membership table back when Redis lost it (a Redis without persistence that restarts comes back
/// empty). Orleans does not: its reads fail on the missing version row, so every silo keeps serving on its last
/// view while heartbeats and status changes fail (a SIGTERM'd silo cannot even leave), until a silo or client
/// that starts creates a fresh, empty table, where a starting silo forms a second cluster. And Orleans fences a
/// silo as soon as it sees a table newer than its view that lacks it, so a table rebuilt by each silo putting
/// back only its own row stops the silos whose rows are not back yet.
/// <para>
/// So each silo reads the table every second and keeps the last healthy copy. When the table is behind its
/// view (a lower version), or lacks a silo its view holds alive, the silo writes back every such row (from that
/// copy; its own row from itself) and then moves the version past its view. Until the last step the version
/// stays at or below what every silo has seen (when their views agree, i.e. no silo was joining or leaving), so
/// no silo accepts a partial table; after it, every silo accepts the whole one. Each write is one conditional write of Orleans' own table API, re-read after each
/// one, so silos restoring at once only take turns. A silo whose view is behind the table refreshes at once.
/// </para>
/// </summary>
internal sealed partial class MembershipTableGuard(
    IMembershipTable table,
    ILocalSiloDetails local,
    IClusterMembershipService membership,
    TimeProvider time,
    ILogger<MembershipTableGuard> logger) : BackgroundService
{
    /// <summary>Between checks. With the Redis client's reconnect (about 2 s), how long the table stays empty after Redis returns.</summary>
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    /// <summary>One check with its restore: a few small Redis calls, plus one per version step.</summary>
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Writes of one restore: one per missing row and per version step (a view's version is in the tens).</summary>
    private const int MaxWrites = 100_000;

    private readonly DateTime _started = time.GetUtcNow().UtcDateTime;

    /// <summary>The last table read that needed nothing written back.</summary>
    private MembershipTableData? _lastHealthy;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var unreachable = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(CheckEvery, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress) != SiloStatus.Active)
            {
                continue; // joining or leaving: Orleans writes the row itself
            }

            using var check = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            check.CancelAfter(CheckTimeout);
            try
            {
                await CheckAsync(check.Token);
                if (unreachable)
                {
                    unreachable = false;
                    LogReachable();
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                if (!unreachable)
                {
                    unreachable = true;
                    LogUnreachable(ex);
                }
            }
        }
    }

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        var data = await ReadAsync(cancellationToken);
        var view = membership.CurrentSnapshot;
        var seen = Math.Max(view.Version.Value, _lastHealthy?.Version.Version ?? 0);
        if (data.Version.Version >= seen && RowToWriteBack(data, view) is null)
        {
            _lastHealthy = data;
            if (data.Version.Version > view.Version.Value)
            {
                await membership.Refresh(cancellationToken: cancellationToken);
            }

            return;
        }

        var (found, foundVersion) = (data.Members.Count, data.Version.Version);
        var (rows, writes, version) = await RestoreAsync(data, view, seen, cancellationToken);
        if (writes > 0)
        {
            LogRestored(found, foundVersion, seen, rows, writes, version);
        }

        await membership.Refresh(cancellationToken: cancellationToken);
    }

    /// <summary>The table; when Redis lost it (its version row is gone), a new, empty one (version 0).</summary>
    private async Task<MembershipTableData> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await table.ReadAllAsync(cancellationToken);
        }
        catch (RedisClusteringException)
        {
            // Redis answers, without the table. Creating its version row is what a starting silo would do.
            await table.InitializeMembershipTableAsync(tryInitTableVersion: true, cancellationToken);
            return await table.ReadAllAsync(cancellationToken);
        }
    }

    /// <summary>
    /// One conditional write at a time, each after a fresh read: the missing rows (this silo's first), then the
    /// version moved past <paramref name="seen"/>, one step per write. A write that loses a race is simply read
    /// again. Returns the rows this silo wrote, its writes, and the version it left.
    /// </summary>
    private async Task<(int Rows, int Writes, int Version)> RestoreAsync(MembershipTableData data, ClusterMembershipSnapshot view, long seen, CancellationToken cancellationToken)
    {
        var (rows, writes) = (0, 0);
        while (true)
        {
            var row = RowToWriteBack(data, view);
            if (row is null && data.Version.Version > seen)
            {
                return (rows, writes, data.Version.Version);
            }

            if (++writes > MaxWrites)
            {
                throw new InvalidOperationException($"The membership table (version {data.Version.Version}) was still behind version {seen} after {MaxWrites} writes.");
            }

            if (row is not null)
            {
                rows += await table.InsertRowAsync(row, data.Version.Next(), cancellationToken) ? 1 : 0;
            }
            else if (data.TryGet(local.SiloAddress) is { } mine)
            {
                await table.UpdateRowAsync(mine.Item1, mine.Item2, data.Version.Next(), cancellationToken);
            }

            data = await table.ReadAllAsync(cancellationToken);
        }
    }

    /// <summary>
    /// A row the table lacks that this silo's view holds alive and this silo can write: its own (from itself), or
    /// another silo's from the last healthy read (one that joined after that read writes its own back).
    /// </summary>
    private MembershipEntry? RowToWriteBack(MembershipTableData data, ClusterMembershipSnapshot view)
    {
        MembershipEntry? other = null;
        foreach (var member in view.Members.Values)
        {
            if (member.Status == SiloStatus.Dead || data.TryGet(member.SiloAddress) is not null)
            {
                continue;
            }

            var known = _lastHealthy?.TryGet(member.SiloAddress)?.Item1;
            if (member.SiloAddress.Equals(local.SiloAddress))
            {
                return Copy(known ?? OwnEntry(), member.Status, time.GetUtcNow().UtcDateTime);
            }

            if (known is not null)
            {
                other ??= Copy(known, member.Status, known.IAmAliveTime);
            }
        }

        return other;
    }

    private MembershipEntry OwnEntry() => new()
    {
        SiloAddress = local.SiloAddress,
        ProxyPort = local.GatewayAddress?.Endpoint.Port ?? 0,
        HostName = local.DnsHostName,
        SiloName = local.Name,
        RoleName = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name,
        StartTime = _started,
        SuspectTimes = [],
    };

    private static MembershipEntry Copy(MembershipEntry entry, SiloStatus status, DateTime iAmAlive) => new()
    {
        SiloAddress = entry.SiloAddress,
        Status = status,
        SuspectTimes = [.. entry.SuspectTimes ?? []],
        ProxyPort = entry.ProxyPort,
        HostName = entry.HostName,
        SiloName = entry.SiloName,
        RoleName = entry.RoleName,
        UpdateZone = entry.UpdateZone,
        FaultZone = entry.FaultZone,
        StartTime = entry.StartTime,
        IAmAliveTime = iAmAlive,
    };

    [LoggerMessage(1, LogLevel.Warning, "The membership table cannot be read; the cluster keeps serving on its last view until it can.")]
    private partial void LogUnreachable(Exception exception);

    [LoggerMessage(2, LogLevel.Information, "The membership table can be read again.")]
    private partial void LogReachable();

    [LoggerMessage(3, LogLevel.Warning, "The membership table was behind this silo's view (it had {Found} rows at version {FoundVersion}; the view is at {Seen}): wrote {Rows} rows back in {Writes} writes; table version now {Version}.")]
    private partial void LogRestored(int found, int foundVersion, long seen, int rows, int writes, int version);
}
