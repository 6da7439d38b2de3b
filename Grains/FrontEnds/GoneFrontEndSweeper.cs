using Microsoft.Extensions.Logging;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// Takes front ends that are gone out of the room grains and socket grains of this silo (docs/design.md,
/// "Sweeping"). A front end's grain purges it when its lease lapses; but a front end that dies together with the
/// silo of its front-end grain and front-end rooms grain leaves nobody who knows its rooms and sockets, except
/// the silos where those grains live. So every <see cref="GrainLimits.SweepGoneFrontEndsEvery"/>, while this silo
/// holds anything (<see cref="FrontEndHoldings"/>), the sweeper reads the registry once; a front end held here
/// that the registry has not listed in any read for <see cref="FrontEndRenewal.MaxPeriod"/> (from the end of the
/// first read that missed it to the start of the latest) is removed from its room grains here, disconnected
/// from its socket grains here, and its presence entries leave those room grains here. A live front end re-registers every renewal, so it is never missing that long
/// unless its lease lapsed, and then its grain purged it too and it relists on its next renewal; the grains skip
/// a front end that listed itself with them again after the deciding read began, so a sweep never undoes that.
/// </summary>
/// <remarks>
/// A silo lifecycle participant from <see cref="ServiceLifecycleStage.Active"/>. It calls the registry, room
/// grains and socket grains, none of which call anything that calls it: it is not a grain.
/// </remarks>
internal sealed partial class GoneFrontEndSweeper(
    IGrainFactory grains,
    FrontEndHoldings holdings,
    TimeProvider time,
    ILogger<GoneFrontEndSweeper> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Cancelled when the silo stops; never disposed, as it has no timer and dies with the silo.</summary>
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Per front end held here that the last reads did not list: when the first of them ended.</summary>
    private readonly Dictionary<string, long> _unlistedSince = new(StringComparer.Ordinal);

    private Task? _sweeps;
    private bool _registryUnreachable;

    void ILifecycleParticipant<ISiloLifecycle>.Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(nameof(GoneFrontEndSweeper), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);

    private Task OnStartAsync(CancellationToken cancellationToken)
    {
        _sweeps = Task.Run(() => SweepPeriodicallyAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_sweeps is { } sweeps)
        {
            await sweeps.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task SweepPeriodicallyAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(GrainLimits.SweepGoneFrontEndsEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                try
                {
                    await SweepOnceAsync();
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    LogSweepFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The silo stops.
        }
    }

    /// <summary>One round: nothing held here costs nothing; otherwise one registry read, and a sweep of each front end gone.</summary>
    private async Task SweepOnceAsync()
    {
        // Taken before the read: a front end held here by now registered before the read began (it attaches
        // before it lists anything), and a hold made after it (sequence higher) is left alone by the grains.
        var held = holdings.FrontEnds();
        if (held.Length == 0)
        {
            _unlistedSince.Clear();
            return;
        }

        var sequence = holdings.Sequence;
        var started = time.GetTimestamp();
        string[] listed;
        try
        {
            listed = await grains.GetGrainByKey<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key).GetFrontEnds();
            if (_registryUnreachable)
            {
                _registryUnreachable = false;
                LogRegistryReachable();
            }
        }
        catch (Exception ex)
        {
            if (!_registryUnreachable)
            {
                _registryUnreachable = true;
                LogRegistryUnreachable(ex);
            }

            return; // the next round reads again; nothing is swept on a read that failed
        }

        var ended = time.GetTimestamp();
        var attached = listed.ToHashSet(StringComparer.Ordinal);
        foreach (var frontEndId in _unlistedSince.Keys.Except(held, StringComparer.Ordinal).ToArray())
        {
            _unlistedSince.Remove(frontEndId); // nothing held for it here any more
        }

        foreach (var frontEndId in held)
        {
            if (attached.Contains(frontEndId))
            {
                _unlistedSince.Remove(frontEndId);
            }
            else if (!_unlistedSince.TryGetValue(frontEndId, out var since))
            {
                _unlistedSince[frontEndId] = ended;
            }
            else if (TimeSpan.FromSeconds((started - since) / (double)time.TimestampFrequency) >= FrontEndRenewal.MaxPeriod)
            {
                await SweepAsync(frontEndId, sequence, time.GetElapsedTime(since, ended));
            }
        }
    }

    /// <summary>Removes the front end from its room grains here and disconnects it from its socket grains here.</summary>
    private async Task SweepAsync(string frontEndId, long heldUpTo, TimeSpan unlistedFor)
    {
        var (rooms, sockets, presence) = holdings.Of(frontEndId);
        var roomsFailed = await CallEachAsync(rooms, room => grains.GetGrainByKey<IRoomGrain>(room).RemoveGone(frontEndId, heldUpTo), frontEndId);
        var socketsFailed = await CallEachAsync(sockets, socket => grains.GetGrainByKey<ISocketGrain>(socket).DisconnectGone(frontEndId, heldUpTo), frontEndId);
        var presenceFailed = await CallEachAsync(presence, room => grains.GetGrainByKey<IRoomGrain>(room).RemoveGonePresence(frontEndId, heldUpTo), frontEndId);
        LogSwept(frontEndId, unlistedFor.TotalSeconds, rooms.Length - roomsFailed, sockets.Length - socketsFailed, presence.Length - presenceFailed, roomsFailed + socketsFailed + presenceFailed);
    }

    /// <summary>
    /// Calls every grain, <see cref="GrainLimits.MaxParallelCalls"/> at a time; the number that failed (each
    /// logged once per round by the first failure; those grains stay held, so the next round tries them again).
    /// </summary>
    private async Task<int> CallEachAsync(string[] keys, Func<string, Task> call, string frontEndId)
    {
        var failed = 0;
        foreach (var chunk in keys.Chunk(GrainLimits.MaxParallelCalls))
        {
            var calls = chunk.Select(call).ToArray();
            try
            {
                await Task.WhenAll(calls);
            }
            catch (Exception)
            {
                var failures = calls.Where(c => !c.IsCompletedSuccessfully).ToArray();
                failed += failures.Length;
                LogCallsFailed(failures[0].Exception?.InnerException, frontEndId, failures.Length);
            }
        }

        return failed;
    }

    [LoggerMessage(1, LogLevel.Warning, "Front end {FrontEndId} is gone (unlisted by the registry for {Seconds:F1} s): swept from {Rooms} room grains, {Sockets} socket grains and the presence of {Presence} rooms on this silo, {Failed} failed (retried next round).")]
    private partial void LogSwept(string frontEndId, double seconds, int rooms, int sockets, int presence, int failed);

    [LoggerMessage(2, LogLevel.Warning, "Front end {FrontEndId}: {Count} grains on this silo could not be told it is gone; the next round retries.")]
    private partial void LogCallsFailed(Exception? exception, string frontEndId, int count);

    [LoggerMessage(3, LogLevel.Warning, "The front-end registry cannot be read; no front end is swept until it can.")]
    private partial void LogRegistryUnreachable(Exception exception);

    [LoggerMessage(4, LogLevel.Information, "The front-end registry can be read again.")]
    private partial void LogRegistryReachable();

    [LoggerMessage(5, LogLevel.Error, "A round of sweeping gone front ends failed; the next round tries again.")]
    private partial void LogSweepFailed(Exception exception);
}
