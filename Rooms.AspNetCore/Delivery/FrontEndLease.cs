using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// Keeps this front end attached to the cluster: renews the lease on its front-end grain every
/// <see cref="FrontEndOptions.RenewEvery"/> until the host stops (then detaches), and keeps the cluster's
/// view of it whole. The front end holds the connections and their memberships, so when a renewal shows that
/// a silo is leaving or left the cluster, or that the front-end grain lost its memory or purged this front
/// end, it lists its sockets and rooms again (<see cref="FrontEndMembership.RebuildAsync"/>: bulk, idempotent).
/// Disconnects that could not be registered are retried here too. Sockets are registered only once the front
/// end is attached, so no broadcast to them can find it missing.
/// </summary>
internal sealed partial class FrontEndLease(
    IGrainFactory grains,
    FrontEndIdentity identity,
    LocalDelivery delivery,
    FrontEndMembership membership,
    LocalFrontEnds inProcess,
    IOptions<FrontEndOptions> options,
    TimeProvider time,
    ILogger<FrontEndLease> logger) : BackgroundService
{
    private readonly TaskCompletionSource _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, byte> _pendingDisconnects = new(StringComparer.Ordinal);
    private readonly FrontEndOptions _options = options.Value;
    private IFrontEndObserver? _reference;
    private Guid? _incarnation;
    private HashSet<string>? _departing;
    private bool _restoreNeeded;
    private long _leaseValidUntil;

    public Task WhenAttached => _attached.Task;

    /// <summary>True while the last renewal is younger than the lease: the cluster delivers to this front end.</summary>
    public bool IsAttached => time.GetUtcNow().UtcTicks < Interlocked.Read(ref _leaseValidUntil);

    private IFrontEndGrain FrontEnd => grains.GetGrainByKey<IFrontEndGrain>(identity.Id);

    /// <summary>This front end's id.</summary>
    public string Id => identity.Id;

    /// <summary>
    /// Records again the location of a socket this front end holds, without going through the front-end grain's
    /// question (that grain may itself be the one that lost its memory). False when the socket is not held here.
    /// </summary>
    public async Task<bool> RestoreAsync(string socketId)
    {
        if (_reference is null || !membership.Holds(socketId))
        {
            return false;
        }

        await FrontEnd.RestoreSockets([socketId]);
        return true;
    }

    /// <summary>A disconnect whose registration failed: retried on every renewal until it succeeds.</summary>
    public void RetryDisconnect(string socketId) => _pendingDisconnects.TryAdd(socketId, 0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = _options.RenewEvery;
            try
            {
                await RenewAsync();
                await RetryDisconnectsAsync();
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && !WhenAttached.IsCompleted)
            {
                // Before the first attach this is the normal wait for a cluster that is not (fully) there yet.
                LogWaitingForCluster(identity.Id, ex.Message);
                wait = TimeSpan.FromSeconds(Math.Min(1, _options.RenewEvery.TotalSeconds));
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogRenewFailed(ex, identity.Id);
                wait = TimeSpan.FromSeconds(Math.Min(1, _options.RenewEvery.TotalSeconds));
            }

            try
            {
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task RenewAsync()
    {
        // Made on first use: a client front end may not be connected to the cluster yet when this starts.
        if (_reference is null)
        {
            _reference = grains.CreateObjectReference<IFrontEndObserver>(delivery);
            inProcess.Add(identity.Id, delivery);
        }

        var sent = time.GetUtcNow();
        // Bounded by the period: a renewal that went to a silo as it died must not hold the next one back.
        var state = await FrontEnd.Renew(_reference!, _options.Lease).WaitAsync(_options.RenewEvery + TimeSpan.FromSeconds(1));
        Interlocked.Exchange(ref _leaseValidUntil, (sent + _options.Lease).UtcTicks);

        if (_incarnation is { } known && known != state.Incarnation)
        {
            // The grain lost its list of our sockets (its silo went) or purged us while we were alive.
            LogIncarnationChanged(identity.Id, membership.Count);
            _restoreNeeded = true;
        }

        var departing = state.DepartingSilos.ToHashSet(StringComparer.Ordinal);
        if (_departing is not null && departing.Except(_departing).FirstOrDefault() is { } departed)
        {
            // Grains on that silo are being deactivated or are gone, and with them any of our sockets'
            // memberships they held. (Silos that were gone before this front end started are not news.)
            LogSiloDeparted(identity.Id, departed, membership.Count);
            _restoreNeeded = true;
        }

        _incarnation = state.Incarnation;
        _departing = departing;
        if (_attached.TrySetResult())
        {
            LogAttached(identity.Id);
        }

        if (_restoreNeeded)
        {
            await RestoreAllAsync();
            _restoreNeeded = false;
        }
    }

    /// <summary>Every local socket's location and every room held here, listed again. Throws (and is retried) when any failed.</summary>
    private async Task RestoreAllAsync()
    {
        var started = time.GetTimestamp();
        try
        {
            await membership.RebuildAsync();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"Listing the sockets and rooms of front end '{identity.Id}' again failed; retrying on the next renewal.", ex);
        }

        LogRestored(identity.Id, membership.Count, time.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task RetryDisconnectsAsync()
    {
        foreach (var id in _pendingDisconnects.Keys)
        {
            await FrontEnd.Disconnect(id);
            _pendingDisconnects.TryRemove(id, out _);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_reference is null)
        {
            return;
        }

        try
        {
            await FrontEnd.Detach().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception ex)
        {
            LogDetachFailed(ex, identity.Id);
        }

        inProcess.Remove(identity.Id);
        grains.DeleteObjectReference<IFrontEndObserver>(_reference);
    }

    [LoggerMessage(1, LogLevel.Information, "Front end {FrontEndId} attached to the cluster.")]
    private partial void LogAttached(string frontEndId);

    [LoggerMessage(2, LogLevel.Warning, "Front end {FrontEndId} could not renew its lease or finish restoring; retrying.")]
    private partial void LogRenewFailed(Exception exception, string frontEndId);

    [LoggerMessage(3, LogLevel.Warning, "Front end {FrontEndId} could not detach.")]
    private partial void LogDetachFailed(Exception exception, string frontEndId);

    [LoggerMessage(4, LogLevel.Warning, "Front end {FrontEndId}: its front-end grain lost its memory or purged it; listing its {Sockets} sockets and their rooms again.")]
    private partial void LogIncarnationChanged(string frontEndId, int sockets);

    [LoggerMessage(5, LogLevel.Warning, "Front end {FrontEndId}: silo {Silo}; listing its {Sockets} sockets and their rooms again.")]
    private partial void LogSiloDeparted(string frontEndId, string silo, int sockets);

    [LoggerMessage(7, LogLevel.Information, "Front end {FrontEndId} is waiting for the cluster: {Reason}")]
    private partial void LogWaitingForCluster(string frontEndId, string reason);

    [LoggerMessage(6, LogLevel.Information, "Front end {FrontEndId} listed {Sockets} sockets and their rooms again in {Milliseconds} ms.")]
    private partial void LogRestored(string frontEndId, int sockets, double milliseconds);
}
