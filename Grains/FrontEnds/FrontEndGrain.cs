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
    private long _activatedAt;
    private bool _unreachable;
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
        _unreachable = false;
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

    public async Task Deliver(DeliveryBatch batch)
    {
        // Kept first, whether the front end is there or not: a resumable socket of a front end that died gets it
        // when it resumes on another (KeptSockets).
        _kept.Keep(batch);

        // A front end that is gone (or has not renewed) lost its sockets with it, and the purge takes it out of
        // its rooms: dropping is the only sensible outcome, and the sender's other front ends must not see the
        // broadcast fail because of it.
        if (!await TryReach(observer => observer.Deliver(batch), $"a batch of event {batch.EventName}"))
        {
            LogDropped(Id, batch.EventName);
        }
    }

    public async Task DeliverAll(DeliveryBatch[] batches)
    {
        foreach (var batch in batches)
        {
            _kept.Keep(batch);
        }

        if (!await TryReach(observer => observer.DeliverAll(batches), $"{batches.Length} batches"))
        {
            LogDropped(Id, batches.Length == 0 ? "(none)" : batches[0].EventName);
        }
    }

    public async Task<bool> Change(string socketId, MembershipChange change)
        => await Attached() is { } observer && await observer.Change(socketId, change);

    public async Task<MembersChangeOutcome> ChangeMembers(string room, MembershipChange change)
        => await Attached() is { } observer ? await observer.ChangeMembers(room, change) : MembersChangeOutcome.None;

    public Task<string[]> GetMembers(string room) => Listing(observer => observer.GetMembers(room), "members of a room");

    public async Task<string[]?> GetSocketRooms(string socketId)
        => await Attached() is { } observer ? await observer.GetSocketRooms(socketId) : null;

    public async Task<PresenceEntry[]> GetPresence(string room)
    {
        PresenceEntry[] answer = [];
        return await TryReach(async observer => answer = await observer.GetPresence(room), "presence of a room") ? answer : [];
    }

    public Task<string[]> Occupied(string[] rooms) => Listing(observer => observer.Occupied(rooms), "occupied rooms");

    public Task<string[]> ListedRooms(int shard, string? after, int count) => Listing(observer => observer.ListedRooms(shard, after, count), "rooms of a directory shard");

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

    /// <summary>A read for a listing (see <see cref="TryReach"/>): nothing, when the front end cannot be reached.</summary>
    private async Task<string[]> Listing(Func<IFrontEndObserver, Task<string[]>> read, string what)
    {
        string[] answer = [];
        return await TryReach(async observer => answer = await read(observer), what) ? answer : [];
    }

    /// <summary>
    /// A delivery or a read for a listing: what a front end that does not answer holds, nobody can reach. False
    /// when the front end is gone, or did not answer this call or an earlier one since it last renewed (those
    /// are answered at once rather than each waiting for the time-out). Changes and a socket's own rooms are not
    /// asked this way: they go to an attached front end whatever, and fail when it does not answer.
    /// </summary>
    private async Task<bool> TryReach(Func<IFrontEndObserver, Task> call, string what)
    {
        if (_unreachable || await Attached() is not { } observer)
        {
            return false;
        }

        try
        {
            await call(observer);
            return true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or OrleansMessageRejectionException)
        {
            // Not handed over: the observer's calls take no token, so a cancellation is this silo stopping (it cancels
            // what it could not send yet); a rejection never reached the front end either. The front end may be fine:
            // the caller sends again, to where this grain lives next (a dropped batch here was a lost broadcast).
            LogNotHandedOver(ex, Id, what);
            throw new FrontEndNotReachedException(Id, what, ex);
        }
        catch (Exception ex)
        {
            _unreachable = true;
            LogUnreachable(ex, Id, what);
            return false;
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

    [LoggerMessage(1, LogLevel.Warning, "Front end {FrontEndId} is gone or did not answer; dropped a batch of event {EventName}.")]
    private partial void LogDropped(string frontEndId, string eventName);

    [LoggerMessage(2, LogLevel.Warning, "Front end {FrontEndId} could not be reached ({What}); it counts as gone until it renews.")]
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
