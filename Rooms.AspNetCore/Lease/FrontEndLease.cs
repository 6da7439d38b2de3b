using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.Lease;

/// <summary>
/// Keeps this front end attached to the cluster: renews the lease on its front-end grain every
/// <see cref="FrontEndOptions.RenewEvery"/> until the host stops (then detaches), and keeps the cluster's
/// view of it whole. The front end holds the connections and their memberships, so when a renewal shows that
/// a silo is leaving or left the cluster, or that the front-end grain lost its memory or purged this front
/// end, it lists its sockets and rooms again (<see cref="FrontEndMembership.RelistAllAsync"/>: bulk, idempotent).
/// Disconnects that could not be registered are retried here too. Sockets are registered only once the front
/// end is attached, so no broadcast to them can find it missing.
/// </summary>
internal sealed partial class FrontEndLease(
    IGrainFactory grains,
    IClusterDoor door,
    LocalFrontEnd local,
    LocalFrontEnds inProcess,
    LocalSockets sockets,
    FrontEndMembership membership,
    SocketJournal journal,
    IHostApplicationLifetime host,
    IOptions<FrontEndOptions> options,
    TimeProvider time,
    ILogger<FrontEndLease> logger) : BackgroundService
{
    /// <summary>How often a draining front end looks whether its resumable sockets have moved away.</summary>
    private static readonly TimeSpan DrainCheckEvery = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a graceful stop waits for the cluster to take this front end out.</summary>
    private static readonly TimeSpan DetachTimeout = TimeSpan.FromSeconds(5);

    private readonly TaskCompletionSource _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, byte> _pendingDisconnects = new(StringComparer.Ordinal);
    private readonly FrontEndOptions _options = options.Value;
    private IFrontEndObserver? _reference;
    private Guid? _incarnation;
    private HashSet<string>? _departing;
    private bool _relistNeeded;
    private long _leaseValidUntil;

    public Task WhenAttached => _attached.Task;

    /// <summary>True while the last renewal is younger than the lease: the cluster delivers to this front end.</summary>
    public bool IsAttached => time.GetUtcNow().UtcTicks < Interlocked.Read(ref _leaseValidUntil);

    /// <summary>This front end's id.</summary>
    public string Id => local.Id;

    /// <summary>A disconnect whose registration failed: retried on every renewal until it succeeds.</summary>
    public void RetryDisconnect(string socketId) => _pendingDisconnects.TryAdd(socketId, 0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Before the first attach, tries again after 100 ms, then twice as long each time up to 1 s: a cluster that just
        // started (its silo Active, the client's view of its grain types a moment behind) is usually there within the
        // first second, and the front end reports ready as soon as it has attached.
        var waitingForCluster = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = _options.RenewEvery;
            try
            {
                await RenewAsync();
                await RetryDisconnectsAsync();
                await journal.RecommitIfNeededAsync();
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && !WhenAttached.IsCompleted)
            {
                // Before the first attach this is the normal wait for a cluster that is not (fully) there yet.
                LogWaitingForCluster(local.Id, ex.Message);
                wait = waitingForCluster < _options.RenewEvery ? waitingForCluster : _options.RenewEvery;
                waitingForCluster = waitingForCluster * 2 > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : waitingForCluster * 2;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogRenewFailed(ex, local.Id);
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
            _reference = grains.CreateObjectReference<IFrontEndObserver>(local);
            inProcess.Add(local.Id, local);
        }

        var sent = time.GetUtcNow();
        // Bounded by the period: a renewal that went to a silo as it died must not hold the next one back.
        var state = await door.RenewAsync(_reference!, _options.Lease, _options.RenewEvery + TimeSpan.FromSeconds(1));
        Interlocked.Exchange(ref _leaseValidUntil, (sent + _options.Lease).UtcTicks);

        if (_incarnation is { } known && known != state.Incarnation)
        {
            // The grain lost its list of our sockets (its silo went) or purged us while we were alive.
            LogIncarnationChanged(local.Id, local.Membership.Count);
            _relistNeeded = true;
        }

        var departing = state.DepartingSilos.ToHashSet(StringComparer.Ordinal);
        if (_departing is not null && departing.Except(_departing).FirstOrDefault() is { } departed)
        {
            // Grains on that silo are being deactivated or are gone, and with them any of our sockets'
            // memberships they held. (Silos that were gone before this front end started are not news.)
            LogSiloDeparted(local.Id, departed, local.Membership.Count);
            _relistNeeded = true;
        }

        _incarnation = state.Incarnation;
        _departing = departing;
        if (_attached.TrySetResult())
        {
            LogAttached(local.Id);
        }

        if (_relistNeeded)
        {
            await RelistAllAsync();
            _relistNeeded = false;
        }
    }

    /// <summary>Every local socket's location and every room held here, listed again. Throws (and is retried) when any failed.</summary>
    private async Task RelistAllAsync()
    {
        var started = time.GetTimestamp();
        try
        {
            await local.Membership.RelistAllAsync();
            await local.Presence.RelistAllAsync();
            await journal.RecommitAllAsync();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"Listing the sockets and rooms of front end '{local.Id}' again failed; retrying on the next renewal.", ex);
        }

        LogRelisted(local.Id, local.Membership.Count, time.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task RetryDisconnectsAsync()
    {
        foreach (var id in _pendingDisconnects.Keys)
        {
            await door.DisconnectAsync(id);
            _pendingDisconnects.TryRemove(id, out _);
        }
    }

    /// <summary>True once the host has begun to stop: not ready for new sockets, and its resumable ones are moving away.</summary>
    public bool IsDraining => host.ApplicationStopping.IsCancellationRequested;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_reference is null)
        {
            return;
        }

        await DrainAsync(cancellationToken);

        try
        {
            await membership.StopSweepingAsync(DetachTimeout).WaitAsync(cancellationToken);
            await door.DetachAsync(DetachTimeout).WaitAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            LogDetachFailed(ex, local.Id);
        }

        inProcess.Remove(local.Id);
        grains.DeleteObjectReference<IFrontEndObserver>(_reference);
    }

    /// <summary>Waits, at most <see cref="FrontEndOptions.DrainTimeout"/>, until no resumable socket is held here: each moved to another front end (or ended).</summary>
    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var before = sockets.ResumableCount;
        while (sockets.ResumableCount > 0 && time.GetElapsedTime(started) < _options.DrainTimeout && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(DrainCheckEvery, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        LogDrained(local.Id, before - sockets.ResumableCount, sockets.ResumableCount, time.GetElapsedTime(started).TotalMilliseconds);
    }

    [LoggerMessage(9, LogLevel.Information, "Front end {FrontEndId} drained: {Moved} resumable sockets moved away, {Left} left (disconnected now), in {Milliseconds} ms.")]
    private partial void LogDrained(string frontEndId, int moved, int left, double milliseconds);

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
    private partial void LogRelisted(string frontEndId, int sockets, double milliseconds);
}
