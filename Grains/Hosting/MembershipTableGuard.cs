using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orleans.Rooms.Hosting;

/// <summary>
/// Puts this silo back into the membership table when the table lost it: a Redis without persistence that
/// restarts comes back empty, and Orleans then neither re-adds a running silo (its heartbeats fail on the
/// missing row) nor lets a new silo find the old ones, so the cluster would split into one that lives only
/// in memory and one in Redis. Checked every few seconds; a table that cannot be read is left alone (the
/// cluster keeps serving on its last view meanwhile).
/// </summary>
internal sealed partial class MembershipTableGuard(
    IMembershipTable table,
    ILocalSiloDetails local,
    IClusterMembershipService membership,
    TimeProvider time,
    ILogger<MembershipTableGuard> logger) : BackgroundService
{
    private const int MaxVersionSteps = 10_000;
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = time.GetUtcNow().UtcDateTime;
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

            try
            {
                var data = await table.ReadAllAsync(stoppingToken);
                if (unreachable)
                {
                    unreachable = false;
                    LogReachable();
                }

                if (data.TryGet(local.SiloAddress) is not null)
                {
                    continue;
                }

                var entry = new MembershipEntry
                {
                    SiloAddress = local.SiloAddress,
                    Status = SiloStatus.Active,
                    ProxyPort = local.GatewayAddress?.Endpoint.Port ?? 0,
                    HostName = local.DnsHostName,
                    SiloName = local.Name,
                    RoleName = typeof(MembershipTableGuard).Assembly.GetName().Name,
                    StartTime = started,
                    IAmAliveTime = time.GetUtcNow().UtcDateTime,
                    SuspectTimes = [],
                };
                var inserted = await table.InsertRowAsync(entry, data.Version.Next(), stoppingToken);
                var version = inserted ? await CatchUpVersionAsync(stoppingToken) : data.Version.Version;
                LogReinserted(local.SiloAddress.ToString(), data.Members.Count, inserted, version);
                await membership.Refresh(cancellationToken: stoppingToken);
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

    /// <summary>
    /// A table that came back empty counts its versions from zero again, and silos ignore a table older than
    /// the one they saw: bump it (one row update per version, each checked by Redis) past this silo's view.
    /// </summary>
    private async Task<int> CatchUpVersionAsync(CancellationToken cancellationToken)
    {
        var seen = membership.CurrentSnapshot.Version.Value;
        for (var step = 0; step < MaxVersionSteps; step++)
        {
            var row = await table.ReadRowAsync(local.SiloAddress, cancellationToken);
            if (row.Version.Version > seen || row.TryGet(local.SiloAddress) is not { } mine)
            {
                return row.Version.Version;
            }

            if (!await table.UpdateRowAsync(mine.Item1, mine.Item2, row.Version.Next(), cancellationToken))
            {
                return row.Version.Version; // someone else wrote meanwhile: the table moves on by itself
            }
        }

        return -1;
    }

    [LoggerMessage(1, LogLevel.Warning, "The membership table cannot be read; the cluster keeps serving on its last view until it can.")]
    private partial void LogUnreachable(Exception exception);

    [LoggerMessage(2, LogLevel.Information, "The membership table can be read again.")]
    private partial void LogReachable();

    [LoggerMessage(3, LogLevel.Warning, "The membership table had lost silo {Silo} (it lists {Others} others): put it back (inserted: {Inserted}, table version now {Version}).")]
    private partial void LogReinserted(string silo, int others, bool inserted, int version);
}
