using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Clustering.Redis;
using Orleans.Configuration.Internal;

namespace Orleans.Rooms.Hosting;

/// <summary>
/// Writes the membership table back when Redis lost it (a Redis without persistence that restarts comes back
/// empty). Orleans does not: its reads fail on the missing version row, so every silo keeps serving on its last
/// view while heartbeats and status changes fail (a SIGTERM'd silo cannot even leave), until a silo or client
/// that starts creates a fresh, empty table, where a starting silo forms a second cluster. And Orleans fences a
/// silo as soon as it sees a table newer than its view that lacks it, so a table rebuilt by each silo putting
/// back only its own row stops the silos whose rows are not back yet.
/// <para>
/// So each Active silo reads the table every <see cref="MembershipTableGuardOptions.CheckPeriod"/> and keeps the
/// last healthy copy. The table is the source of truth: this silo's view is taken before each read, so whatever
/// the view holds was in the table before the read began, and a later read that is merely behind the view (a
/// silo joined in between) is not seen at all. Only a table that really lost something is written: its version
/// row gone, its version lower than one this silo read before (versions never go back), or a row gone that this
/// silo's view or its last healthy read holds alive (Orleans deletes only rows of dead silos).
/// </para>
/// <para>
/// Then the silo writes back every such row (from that copy; its own row from itself) and moves the version past
/// what it had seen. Until the last step the version stays at or below what every silo has seen (when their
/// views agree, i.e. no silo was joining or leaving), so no silo accepts a partial table; after it, every silo
/// accepts the whole one. Each write is one conditional write of Orleans' own table API, re-read after each one,
/// so silos restoring at once only take turns. A silo whose view is behind the table refreshes at once.
/// </para>
/// A silo lifecycle participant like Orleans' own membership agents: it runs from <see cref="ServiceLifecycleStage.Active"/>
/// (the silo is Active) and stops first on the way down, before the silo writes that it leaves.
/// </summary>
internal sealed partial class MembershipTableGuard(
    IMembershipTable table,
    ILocalSiloDetails local,
    IClusterMembershipService membership,
    IOptions<MembershipTableGuardOptions> options,
    TimeProvider time,
    ILogger<MembershipTableGuard> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly MembershipTableGuardOptions _options = options.Value;

    /// <summary>Cancelled when the silo stops; never disposed, as it has no timer and dies with the silo.</summary>
    private readonly CancellationTokenSource _stopping = new();

    private readonly DateTime _started = time.GetUtcNow().UtcDateTime;

    /// <summary>The last table read that needed nothing written back.</summary>
    private MembershipTableData? _lastHealthy;

    private Task? _checks;

    void ILifecycleParticipant<ISiloLifecycle>.Participate(ISiloLifecycle lifecycle)
    {
        if (!_options.Enabled)
        {
            LogDisabled();
            return;
        }

        lifecycle.Subscribe(nameof(MembershipTableGuard), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);
    }

    private Task OnStartAsync(CancellationToken cancellationToken)
    {
        LogStarted(_options.CheckPeriod, _options.CheckTimeout);
        _checks = Task.Run(() => CheckPeriodicallyAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_checks is { } checks)
        {
            await checks.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task CheckPeriodicallyAsync(CancellationToken stopping)
    {
        var unreachable = false;
        using var timer = new PeriodicTimer(_options.CheckPeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                // Before the read (see the class remarks).
                var view = membership.CurrentSnapshot;
                if (view.GetSiloStatus(local.SiloAddress) != SiloStatus.Active)
                {
                    continue; // joining or leaving: Orleans writes the row itself
                }

                using var timeout = new CancellationTokenSource(_options.CheckTimeout, time);
                using var check = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
                try
                {
                    await CheckAsync(view, check.Token);
                    if (unreachable)
                    {
                        unreachable = false;
                        LogReachable();
                    }
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    if (!unreachable)
                    {
                        unreachable = true;
                        LogUnreachable(ex);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The silo stops.
        }
    }

    private async Task CheckAsync(ClusterMembershipSnapshot view, CancellationToken cancellationToken)
    {
        var (data, versionRowLost) = await ReadAsync(cancellationToken);
        var loss = versionRowLost ? "its version row was missing" : Loss(data, view);
        if (loss is null)
        {
            _lastHealthy = data;
            if (data.Version.Version > view.Version.Value)
            {
                await membership.Refresh(cancellationToken: cancellationToken);
            }

            return;
        }

        var seen = Math.Max(view.Version.Value, _lastHealthy?.Version.Version ?? 0);
        LogLost(loss, data.Members.Count, data.Version.Version, seen);
        var (rows, writes, version) = await RestoreAsync(data, view, seen, cancellationToken);
        if (writes > 0)
        {
            LogRestored(rows, writes, version);
        }

        await membership.Refresh(cancellationToken: cancellationToken);
    }

    /// <summary>
    /// What the table lost, or null when it lost nothing. A version behind the view alone does not count: a silo
    /// with a last healthy read sees a lost table's version go back, one without sees its own row gone, and a
    /// version lag is what a read racing a join looked like (that made the earlier guard write to healthy tables).
    /// </summary>
    private string? Loss(MembershipTableData data, ClusterMembershipSnapshot view)
    {
        if (_lastHealthy is { } healthy && data.Version.Version < healthy.Version.Version)
        {
            return $"its version went back from {healthy.Version.Version}, read before, to {data.Version.Version}";
        }

        foreach (var member in view.Members.Values)
        {
            if (member.Status != SiloStatus.Dead && data.TryGet(member.SiloAddress) is null)
            {
                return $"silo {member.SiloAddress}, {member.Status} in this silo's view, has no row";
            }
        }

        foreach (var (entry, _) in _lastHealthy?.Members ?? [])
        {
            if (entry.Status != SiloStatus.Dead && view.GetSiloStatus(entry.SiloAddress) != SiloStatus.Dead && data.TryGet(entry.SiloAddress) is null)
            {
                return $"silo {entry.SiloAddress}, {entry.Status} when last read, has no row";
            }
        }

        return null;
    }

    /// <summary>The table and whether its version row was gone (Redis lost it): then a new, empty one (version 0).</summary>
    private async Task<(MembershipTableData Data, bool VersionRowLost)> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await table.ReadAllAsync(cancellationToken), false);
        }
        catch (RedisClusteringException)
        {
            // Redis answers, without the table. Creating its version row is what a starting silo would do.
            await table.InitializeMembershipTableAsync(tryInitTableVersion: true, cancellationToken);
            return (await table.ReadAllAsync(cancellationToken), true);
        }
    }

    /// <summary>
    /// One conditional write at a time, each after a fresh read: the missing rows (this silo's first), then the
    /// version moved past <paramref name="seen"/>, one step per write. A write that loses a race is simply read
    /// again. Returns the rows this silo wrote, its writes, and the version it left.
    /// </summary>
    private async Task<(int Rows, int Writes, int Version)> RestoreAsync(MembershipTableData data, ClusterMembershipSnapshot view, long seen, CancellationToken cancellationToken)
    {
        // One write per missing row and per version step, and a write lost to another silo is one that silo made:
        // at most every silo in the view writing, each losing to all the others.
        var needed = view.Members.Count + (int)Math.Max(0, seen - data.Version.Version) + 1;
        var maxWrites = needed * (view.Members.Count + 1);
        var (rows, writes) = (0, 0);
        while (true)
        {
            var row = RowToWriteBack(data, view);
            if (row is null && data.Version.Version > seen)
            {
                return (rows, writes, data.Version.Version);
            }

            if (row is null && MissesAlive(data, view))
            {
                // Rows this silo's view holds alive are missing and it has no copy of them (it joined after its last
                // healthy read, or has none): moving the version past the view would make every silo, this one
                // first, accept a table without them, and fence them. Left to a silo that has them.
                LogLeftToOthers(data.Version.Version);
                return (rows, writes, data.Version.Version);
            }

            if (++writes > maxWrites)
            {
                throw new InvalidOperationException($"The membership table (version {data.Version.Version}) was still behind version {seen} after {maxWrites} writes.");
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

    /// <summary>Whether the table lacks a row of a silo this silo's view holds alive.</summary>
    private static bool MissesAlive(MembershipTableData data, ClusterMembershipSnapshot view)
        => view.Members.Values.Any(member => member.Status != SiloStatus.Dead && data.TryGet(member.SiloAddress) is null);

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

    [LoggerMessage(7, LogLevel.Warning, "The membership table (version {Version}) still lacks rows this silo's view holds alive and has no copy of; leaving the rest of the write-back to a silo that has them.")]
    private partial void LogLeftToOthers(int version);

    [LoggerMessage(1, LogLevel.Warning, "The membership table cannot be read; the cluster keeps serving on its last view until it can.")]
    private partial void LogUnreachable(Exception exception);

    [LoggerMessage(2, LogLevel.Information, "The membership table can be read again.")]
    private partial void LogReachable();

    [LoggerMessage(3, LogLevel.Warning, "The membership table was written back: {Rows} rows in {Writes} writes; table version now {Version}.")]
    private partial void LogRestored(int rows, int writes, int version);

    [LoggerMessage(4, LogLevel.Information, "Checking the membership table every {CheckPeriod} (timeout {CheckTimeout}) for a Redis that lost it.")]
    private partial void LogStarted(TimeSpan checkPeriod, TimeSpan checkTimeout);

    [LoggerMessage(5, LogLevel.Warning, "The membership table is not checked (" + MembershipTableGuardOptions.SectionName + ":Enabled is false): a Redis that comes back empty is not written back.")]
    private partial void LogDisabled();

    [LoggerMessage(6, LogLevel.Warning, "The membership table was lost ({Loss}; it has {Found} rows at version {FoundVersion}): writing it back past version {Seen} from this silo's view and its last healthy read.")]
    private partial void LogLost(string loss, int found, int foundVersion, long seen);
}
