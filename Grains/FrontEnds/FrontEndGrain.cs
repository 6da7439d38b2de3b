using Orleans.Placement;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Rooms.Membership;
using Orleans.Runtime;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// One front end in the cluster: its observer under a lease the front end renews, and the ids of its
/// sockets whose location is recorded (those another front end looked for, or that moved here), so that a front end that dies without a goodbye can be purged (out of every room through its
/// front-end rooms grain, its sockets' locations forgotten) at a cost that grows with its own rooms and sockets
/// only. Reentrant: it forwards and keeps a set; ordering per sender holds because a sender awaits each
/// delivery before the next. Calls the observer, socket grains, the front-end rooms grain and the registry,
/// none of which call it back.
/// </summary>
[Reentrant]
[Immovable] // its state lives in memory only: a migration (rebalancer, repartitioner) would lose it
internal sealed partial class FrontEndGrain(
    TimeProvider time,
    IClusterMembershipService membership,
    LocalFrontEnds inProcess,
    ILogger<FrontEndGrain> logger) : InMemoryGrain, IFrontEndGrain
{
    private readonly HashSet<string> _sockets = new(StringComparer.Ordinal);
    private readonly KeptSockets _kept = new(time);
    private readonly Dictionary<string, (string To, SocketHandOver HandOver)> _handedOverFromRecord = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _firstRenewal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HeldBatches _held = new();
    private long _activatedAt;
    private bool _unreachable;
    private bool _sendingHeld;
    private Guid _incarnation = Guid.NewGuid();
    private IFrontEndObserver? _observer;
    private IGrainTimer? _leaving;
    private DateTimeOffset _leaseEnds;
    private bool _purging;
    private bool _purged;

    private string Id => this.GetPrimaryKeyString();

    private IFrontEndRegistryGrain Registry => GrainFactory.GetGrainByKey<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = time.GetTimestamp();

        // The lease is checked on a timer, not when someone happens to call: a dead front end gets no calls.
        this.RegisterGrainTimer(CheckLease, new GrainTimerCreationOptions(GrainLimits.LeaseCheckEvery, GrainLimits.LeaseCheckEvery) { Interleave = true });
        return Task.CompletedTask;
    }

    public async Task<LeaseState> Renew(IFrontEndObserver observer, TimeSpan lease)
    {
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        _observer = observer;
        _leaving?.Dispose();
        _leaving = null;
        _leaseEnds = time.GetUtcNow() + lease;
        if (_held.Count == 0)
        {
            _unreachable = false;
        }
        else
        {
            // Not awaited: the front end's renewal must not wait on its own deliveries (nor time out on them).
            _ = SendHeld();
        }

        _purged = false;
        _firstRenewal.TrySetResult();
        KeepActive();

        // Every renewal registers again, so a registry that lost its memory is whole again within one period.
        await Registry.Register(Id, lease);
        var departing = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status is SiloStatus.ShuttingDown or SiloStatus.Stopping or SiloStatus.Dead)
            .Select(m => $"{m.SiloAddress.ToParsableString()} {(m.Status == SiloStatus.Dead ? "dead" : "leaving")}")
            .ToArray();
        return new LeaseState(_incarnation, departing);
    }

    public async Task RelistSockets(string[] socketIds)
    {
        // Added, not replaced: a socket connecting while the list was on its way is tracked already, and
        // an id that is gone by now costs the purge one idempotent disconnect.
        _sockets.UnionWith(socketIds);
        foreach (var chunk in socketIds.Chunk(GrainLimits.MaxParallelCalls))
        {
            await Task.WhenAll(chunk.Select(id => Socket(id).Connect(Id)));
        }
    }

    public async Task Disconnect(string socketId)
    {
        await Socket(socketId).Disconnect(Id);
        _sockets.Remove(socketId);
    }

    public async Task<bool> Relist(string socketId)
    {
        if (await Attached() is not { } observer)
        {
            return false;
        }

        if (!await observer.Locate(socketId))
        {
            return false;
        }

        // Tracked before the socket grain knows it, so a purge can never miss a socket it recorded.
        _sockets.Add(socketId);
        await Socket(socketId).Connect(Id);
        return true;
    }

    public async Task Detach()
    {
        await Purge("detached");
        _observer = null;

        // Gone for good, and said so: a call that comes in the next moments (another front end's list of attached
        // front ends is up to 3 s old) answers at once that the front end is not there, rather than waiting, as a
        // new activation would, a renewal period for a front end that might be coming back. A renewal after this
        // (the same front end attaching again) meets a new incarnation, so it lists everything again.
        _firstRenewal.TrySetResult();
        _incarnation = Guid.NewGuid();
        AllowCollection();
        _leaving?.Dispose();
        _leaving = this.RegisterGrainTimer(() => { DeactivateOnIdle(); return Task.CompletedTask; }, new GrainTimerCreationOptions(FrontEndRenewal.MaxPeriod, Timeout.InfiniteTimeSpan));
    }

    public Task Deliver(DeliveryBatch batch)
    {
        // Kept first, whether the front end is there or not: a resumable socket of a front end that died gets it
        // when it resumes on another (KeptSockets).
        _kept.Keep(batch);
        return Send([batch], observer => observer.Deliver(batch));
    }

    public Task DeliverAll(DeliveryBatch[] batches)
    {
        foreach (var batch in batches)
        {
            _kept.Keep(batch);
        }

        return Send(batches, observer => observer.DeliverAll(batches));
    }

    /// <summary>
    /// Passes batches on to the front end. A front end that is gone (or has not renewed) lost its sockets with it,
    /// and the purge takes it out of its rooms: its batches are dropped, and the sender's other front ends must not
    /// see the broadcast fail because of it. One whose lease is current but that did not answer (its gateway silo
    /// died, and its callbacks have no way in until it is connected to another) is alive: what it did not answer,
    /// and what comes for it until it renews, is held, and sent in order once it has renewed (<see cref="HeldBatches"/>).
    /// </summary>
    private async Task Send(DeliveryBatch[] batches, Func<IFrontEndObserver, Task> call)
    {
        if (batches.Length == 0)
        {
            return;
        }

        if (await Attached() is not { } observer)
        {
            LogDropped(Id, batches.Length, batches[0].EventName);
            return;
        }

        if (_unreachable)
        {
            Hold(batches);
            return;
        }

        try
        {
            await call(observer);
        }
        catch (Exception ex) when (ex is OperationCanceledException or OrleansMessageRejectionException)
        {
            // Not handed over: the observer's calls take no token, so a cancellation is this silo stopping (it cancels
            // what it could not send yet); a rejection never reached the front end either. The front end may be fine:
            // the caller sends again, to where this grain lives next (a dropped batch here was a lost broadcast).
            LogNotHandedOver(ex, Id, $"{batches.Length} batches of event {batches[0].EventName}");
            throw new FrontEndNotReachedException(Id, $"a batch of event {batches[0].EventName}", ex);
        }
        catch (Exception ex)
        {
            // Timed out, most likely: it may have arrived (the front end takes a batch once, see TakenBatches).
            _unreachable = true;
            LogUnreachable(ex, Id, $"{batches.Length} batches of event {batches[0].EventName}");
            Hold(batches);
        }
    }

    private void Hold(DeliveryBatch[] batches)
    {
        if (_held.Hold(batches) is var (lost, bytes) && lost > 0)
        {
            LogHeldOverflow(Id, lost, bytes);
        }
    }

    /// <summary>
    /// Sends what was held for the front end, in order, once it has renewed (so its callbacks have a way in again);
    /// what comes meanwhile is held behind it. The front end counts as reachable again once nothing is held. A call
    /// that fails leaves the rest held for the next renewal.
    /// </summary>
    private async Task SendHeld()
    {
        if (_sendingHeld)
        {
            return;
        }

        _sendingHeld = true;
        try
        {
            var sent = 0;
            while (_held.Count > 0)
            {
                if (await Attached() is not { } observer)
                {
                    return; // lapsed: the purge drops what is held with the front end's sockets
                }

                var next = _held.Peek();
                try
                {
                    await observer.DeliverAll(next);
                }
                catch (Exception ex)
                {
                    LogUnreachable(ex, Id, $"{next.Length} held batches");
                    return;
                }

                _held.Remove(next);
                sent += next.Length;
            }

            _unreachable = false;
            LogHeldSent(Id, sent);
        }
        finally
        {
            _sendingHeld = false;
        }
    }

    public async Task<bool> Change(string socketId, MembershipChange change)
        => await Attached() is { } observer && await observer.Change(socketId, change);

    public async Task<MembersChangeOutcome> ChangeMembers(string room, MembershipChange change)
        => await Attached() is { } observer ? await observer.ChangeMembers(room, change) : MembersChangeOutcome.None;

    public Task<string[]> GetMembers(string room) => Read(observer => observer.GetMembers(room), [], "members of a room");

    public async Task<string[]?> GetSocketRooms(string socketId)
        => await Attached() is { } observer ? await observer.GetSocketRooms(socketId) : null;

    public Task<PresenceEntry[]> GetPresence(string room) => Read(observer => observer.GetPresence(room), [], "presence of a room");

    public Task<string[]> Occupied(string[] rooms) => Read(observer => observer.Occupied(rooms), [], "occupied rooms");

    public Task<string[]> ListedRooms(int shard, string? after, int count) => Read(observer => observer.ListedRooms(shard, after, count), [], "rooms of a directory shard");

    public async Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd)
    {
        if (!_unreachable && await Attached() is { } observer)
        {
            try
            {
                // The front end is there: it decides (its own memory is the socket's truth while it lives).
                return await observer.BeginHandOver(socketId, secret, seq, toFrontEnd);
            }
            catch (Exception ex)
            {
                _unreachable = true;
                LogUnreachable(ex, Id, "a socket's move");
            }
        }

        // Gone, or not answering: from what the cluster kept of the socket.
        var rooms = _kept.Begin(socketId, secret, toFrontEnd);
        LogMovingFromRecord(Id, socketId, toFrontEnd, rooms is not null);
        return rooms;
    }

    public async Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd)
    {
        if (_handedOverFromRecord.TryGetValue(socketId, out var earlier) && earlier.To == toFrontEnd)
        {
            return earlier.HandOver; // a retry of a move completed from the record
        }

        SocketHandOver? handOver;
        if (_kept.IsMoving(socketId, toFrontEnd))
        {
            handOver = _kept.End(socketId, toFrontEnd);
            if (handOver is not null)
            {
                _handedOverFromRecord[socketId] = (toFrontEnd, handOver);
            }
        }
        else if (await Attached() is not { } observer || (handOver = await observer.EndHandOver(socketId, toFrontEnd)) is null)
        {
            return null;
        }

        // Its location moved with it (the new front end's grain recorded it before asking): not ours to purge any more.
        // What was kept of it goes with the record's end (KeptSockets.End), or with the front end's journal, in order.
        _sockets.Remove(socketId);
        return handOver;
    }

    public async Task AbortHandOver(string socketId, string toFrontEnd)
    {
        if (_kept.IsMoving(socketId, toFrontEnd))
        {
            _kept.Abort(socketId, toFrontEnd);
            return;
        }

        if (await Attached() is { } observer)
        {
            await observer.AbortHandOver(socketId, toFrontEnd);
        }
    }

    public Task Commit(FrontEndJournal journal)
    {
        _kept.Apply(journal);
        return Task.CompletedTask;
    }

    public async Task Adopt(string socketId, string fromFrontEnd)
    {
        if (_observer is null)
        {
            throw new InvalidOperationException($"Front end '{Id}' is not attached; it cannot take socket '{socketId}' over.");
        }

        // Tracked before the socket grain names it, as in Relist.
        _sockets.Add(socketId);
        await Socket(socketId).Move(fromFrontEnd, Id);
    }

    /// <summary>The observer of an attached front end (its lease is current), or null when it is gone or never came.</summary>
    private async ValueTask<IFrontEndObserver?> Attached()
    {
        await AwaitFirstRenewalIfNew();
        return _observer is { } observer && LeaseCurrent() ? inProcess.Resolve(Id, observer) : null;
    }

    /// <summary>
    /// A read of what the front end holds, from the front end: <paramref name="gone"/> when it is gone (its lease
    /// lapsed), or did not answer this call or one since it last renewed (those are answered at once rather than
    /// each waiting for the time-out). A front end that does not answer is most often dead, its lease running out:
    /// failing every read that involves it until then (20 s) would cost more than a listing without its sockets
    /// (docs/design.md, "A front end its grain cannot reach"). A call not handed over fails as not reached (retried).
    /// </summary>
    private async Task<T> Read<T>(Func<IFrontEndObserver, Task<T>> read, T gone, string what)
    {
        if (_unreachable || await Attached() is not { } observer)
        {
            return gone;
        }

        try
        {
            return await read(observer);
        }
        catch (Exception ex) when (ex is OperationCanceledException or OrleansMessageRejectionException)
        {
            LogNotHandedOver(ex, Id, what);
            throw new FrontEndNotReachedException(Id, what, ex);
        }
        catch (Exception ex)
        {
            _unreachable = true;
            LogUnreachable(ex, Id, what);
            return gone;
        }
    }

    private bool LeaseCurrent() => time.GetUtcNow() <= _leaseEnds;

    /// <summary>
    /// Just activated, so this grain lost its memory (its silo went) or the front end is new: a live front end
    /// renews within the longest renewal period. Wait for that rather than answer as if it were gone.
    /// </summary>
    private async Task AwaitFirstRenewalIfNew()
    {
        if (_observer is not null)
        {
            return; // every delivery but those racing a rebuild
        }

        var left = FrontEndRenewal.MaxPeriod - time.GetElapsedTime(_activatedAt);
        if (left > TimeSpan.Zero)
        {
            try
            {
                await _firstRenewal.Task.WaitAsync(left, time);
            }
            catch (TimeoutException)
            {
                // No front end came: the callers handle it as gone.
            }
        }
    }

    private async Task CheckLease(CancellationToken cancellationToken)
    {
        // Purged once per lapse; sockets or rooms that could not be purged keep it going on the next tick.
        if (_purging || _purged || LeaseCurrent())
        {
            return;
        }

        if (_observer is null && _sockets.Count == 0 && time.GetElapsedTime(_activatedAt) < FrontEndRenewal.MaxPeriod)
        {
            return; // just activated: a live front end renews within the longest period (see AwaitFirstRenewalIfNew)
        }

        LogLeaseLapsed(Id, _sockets.Count);
        _observer = null;
        await Purge("lease lapsed");
    }

    /// <summary>
    /// Takes this front end out of every room, forgets its sockets' locations and leaves the registry. A new
    /// incarnation tells a front end that comes back (it was alive but could not renew) to list them again.
    /// </summary>
    private async Task Purge(string reason)
    {
        _purging = true;
        try
        {
            var started = time.GetTimestamp();
            var failedRooms = await GrainFactory.GetGrainByKey<IFrontEndRoomsGrain>(Id).Purge();
            var sockets = _sockets.ToArray();
            var failed = 0;

            // In chunks awaited here, not Parallel.ForEachAsync: that would run the calls on the thread pool,
            // outside this activation, and touch the set from several threads.
            foreach (var chunk in sockets.Chunk(GrainLimits.MaxParallelCalls))
            {
                var done = await Task.WhenAll(chunk.Select(TryDisconnect));
                for (var i = 0; i < chunk.Length; i++)
                {
                    if (done[i])
                    {
                        _sockets.Remove(chunk[i]);
                    }
                    else
                    {
                        failed++;
                    }
                }
            }

            if (failed == 0 && failedRooms == 0)
            {
                await Registry.Unregister(Id);
                AllowCollection();
            }

            _purged = failed == 0 && failedRooms == 0;
            _incarnation = Guid.NewGuid();
            _kept.Clear();
            _handedOverFromRecord.Clear();
            _held.Clear();
            LogPurged(Id, reason, sockets.Length - failed, failed, failedRooms, time.GetElapsedTime(started).TotalMilliseconds);
        }
        finally
        {
            _purging = false;
        }
    }

    private async Task<bool> TryDisconnect(string socketId)
    {
        try
        {
            await Socket(socketId).Disconnect(Id);
            return true;
        }
        catch (Exception ex)
        {
            LogPurgeFailed(ex, Id, socketId);
            return false;
        }
    }

    private ISocketGrain Socket(string id) => GrainFactory.GetGrainByKey<ISocketGrain>(id);

    [LoggerMessage(1, LogLevel.Warning, "Front end {FrontEndId} is gone (its lease lapsed or it left); dropped {Count} batches of event {EventName}.")]
    private partial void LogDropped(string frontEndId, int count, string eventName);

    [LoggerMessage(8, LogLevel.Error, "Front end {FrontEndId} has not been reachable for long: {Lost} held batches ({Bytes} bytes) were dropped, oldest first, to keep what is held within its bound.")]
    private partial void LogHeldOverflow(string frontEndId, int lost, long bytes);

    [LoggerMessage(9, LogLevel.Information, "Front end {FrontEndId} renewed: the {Count} batches held while it did not answer were sent to it.")]
    private partial void LogHeldSent(string frontEndId, int count);

    [LoggerMessage(2, LogLevel.Warning, "Front end {FrontEndId} did not answer ({What}); deliveries to it are held, and reads answer without it, until it renews.")]
    private partial void LogUnreachable(Exception exception, string frontEndId, string what);

    [LoggerMessage(7, LogLevel.Information, "Front end {FrontEndId} was not reached ({What}): the call was not handed over (this silo stopping, or the message rejected); its caller sends it again.")]
    private partial void LogNotHandedOver(Exception exception, string frontEndId, string what);

    [LoggerMessage(3, LogLevel.Warning, "Front end {FrontEndId} did not renew its lease; purging it and its {Sockets} sockets.")]
    private partial void LogLeaseLapsed(string frontEndId, int sockets);

    [LoggerMessage(4, LogLevel.Warning, "Front end {FrontEndId}: socket {SocketId} could not be purged; the next check retries.")]
    private partial void LogPurgeFailed(Exception exception, string frontEndId, string socketId);

    [LoggerMessage(6, LogLevel.Information, "Front end {FrontEndId} is gone or not answering: socket {SocketId} moves to front end {ToFrontEndId} from what the cluster kept of it (found: {Found}).")]
    private partial void LogMovingFromRecord(string frontEndId, string socketId, string toFrontEndId, bool found);

    [LoggerMessage(5, LogLevel.Information, "Front end {FrontEndId} purged ({Reason}): {Purged} sockets forgotten, {Failed} failed, {FailedRooms} rooms not told, in {Milliseconds} ms.")]
    private partial void LogPurged(string frontEndId, string reason, int purged, int failed, int failedRooms, double milliseconds);
}
