using Microsoft.Extensions.Logging;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Telemetry;
using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// This front end as the cluster and its own code reach it: its observer (what other front ends and grains ask
/// of it, through its front-end grain) and, to <see cref="FrontEndRouter"/>, the <see cref="IFrontEnd"/> that
/// is here. Deliveries: one batch becomes one event (one hub message for all plain sockets, serialized once per
/// protocol; one numbered message per resumable socket; the payload bytes written as they came), queued on
/// each target socket; it returns once the event is queued on every target, so a sender that awaits its
/// broadcasts keeps their order. Changes and reads are answered by <see cref="FrontEndMembership"/>.
/// </summary>
internal sealed partial class LocalFrontEnd(string id, FrontEndMembership membership, FrontEndPresence presence, ISocketOutbox sockets, ISocketHandOvers handOvers, SocketJournal journal, IClusterDoor door, RoomsMetrics metrics, ILogger<LocalFrontEnd> logger) : IFrontEndObserver, IFrontEnd, IInProcessDelivery
{
    public string Id => id;

    public FrontEndMembership Membership => membership;

    public FrontEndPresence Presence => presence;

    private readonly TakenBatches _taken = new();

    /// <summary>
    /// A batch from another front end, passed on by this front end's grain (which kept it already, for resumable
    /// sockets); one taken already (the grain sends again what a timed-out call carried) is not delivered twice.
    /// </summary>
    Task IFrontEndObserver.Deliver(DeliveryBatch batch)
    {
        if (!_taken.TryTake(batch))
        {
            LogTakenAlready(batch.EventName, batch.Id);
            return Task.CompletedTask;
        }

        DeliverHere(batch);
        return FollowMovedAsync(batch);
    }

    /// <summary>Batches from the grains of a silo (rooms' presence diffs), in one call: each as <see cref="IFrontEndObserver.Deliver"/>.</summary>
    Task IFrontEndObserver.DeliverAll(DeliveryBatch[] batches)
    {
        List<Task>? following = null;
        foreach (var batch in batches)
        {
            if (((IFrontEndObserver)this).Deliver(batch) is { IsCompletedSuccessfully: false } followed)
            {
                (following ??= []).Add(followed);
            }
        }

        return following is null ? Task.CompletedTask : Task.WhenAll(following);
    }

    /// <summary>A broadcast of this front end's own to its sockets: kept in the cluster when it reached a resumable one (docs/design.md, "Surviving a front end").</summary>
    Task IFrontEnd.Deliver(DeliveryBatch batch)
    {
        var kept = DeliverHere(batch) && journal.Enabled ? journal.KeepAsync(batch) : Task.CompletedTask;
        var followed = FollowMovedAsync(batch);
        return kept.IsCompletedSuccessfully ? followed : followed.IsCompletedSuccessfully ? kept : Task.WhenAll(kept, followed);
    }

    /// <summary>A batch from a grain of this process (a room's presence diff), delivered and kept as a broadcast of this front end's own.</summary>
    Task IInProcessDelivery.DeliverFromThisProcess(DeliveryBatch batch) => ((IFrontEnd)this).Deliver(batch);

    /// <summary>
    /// A batch for sockets that moved away a moment ago goes after them, to each by its own-id room, under the same
    /// broadcast id: the broadcast read this front end as theirs before their new one listed them (their clients skip
    /// it by that id when it reached them there too). Awaited, so the broadcast is answered once it is passed on.
    /// </summary>
    private Task FollowMovedAsync(DeliveryBatch batch)
    {
        var moved = handOvers.MovedAwayIn(batch);
        return moved.Count == 0
            ? Task.CompletedTask
            : Task.WhenAll(moved.GroupBy(m => m.ToFrontEnd, StringComparer.Ordinal).Select(async to =>
            {
                try
                {
                    await door.FrontEnd(to.Key).Deliver(batch with { Rooms = [.. to.Select(m => m.SocketId)], Except = null });
                }
                catch (Exception ex)
                {
                    LogNotFollowed(ex, to.Count(), to.Key);
                }
            }));
    }

    /// <summary>Queues the batch's event on each target socket; true when one of them is resumable.</summary>
    private bool DeliverHere(DeliveryBatch batch)
    {
        var message = new OutgoingEvent(batch.EventName, batch.Payload, batch.Id);
        int delivered;
        var resumable = false;
        if (batch.Rooms is null)
        {
            delivered = sockets.SendToAll(message, batch.Except);
            resumable = handOvers.HoldsResumable;
        }
        else
        {
            delivered = 0;
            var anyResumable = handOvers.HoldsResumable;
            foreach (var socketId in membership.Recipients(batch.Rooms, batch.Except))
            {
                if (sockets.Send(socketId, message))
                {
                    delivered++;
                    resumable = resumable || (anyResumable && handOvers.IsKeptInCluster(socketId));
                }
            }
        }

        metrics.Delivered(delivered);
        return resumable;
    }

    public Task<bool> Change(string socketId, MembershipChange change)
        => change.Presence is { } op ? ChangePresenceAsync(socketId, change, op)
            : journal.Enabled ? ChangeAndRecordAsync(socketId, change) : membership.ChangeAsync(socketId, change);

    /// <summary>
    /// A track (the room joined first, when needed), a meta update or an untrack of a socket held here; false when it
    /// is not. A resumable socket's record is kept once, with its rooms and entries as the change left them.
    /// </summary>
    private async Task<bool> ChangePresenceAsync(string socketId, MembershipChange change, PresenceOp op)
    {
        Task? tracking = null;
        if (op.Key is not null)
        {
            // A room new here is listed by the entry's own call: a listing the join asks for during its first,
            // synchronous steps rides with the entry (one call, as a join costs). One it asks for later (it waited
            // for another change of the room first) is a call of its own, and the entry follows the join, as before.
            FrontEndPresence.Listing? listing = null;
            var phase = 0; // 0: the join's first steps; 1: a listing was asked for in them; 2: after them
            var joining = membership.ChangeAsync(socketId, change with { Presence = null }, (room, listable) =>
            {
                var asked = new FrontEndPresence.Listing(listable, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                if (Interlocked.CompareExchange(ref phase, 1, 0) == 0)
                {
                    listing = asked;
                    return asked.Done.Task;
                }

                return door.ListAsync([room], listable, relist: false);
            });
            if (Interlocked.Exchange(ref phase, 2) == 1)
            {
                tracking = presence.TrackAsync(socketId, op.Room, op.Key, op.Meta!, listing);
            }

            bool held;
            try
            {
                held = await joining;
            }
            catch when (tracking is not null)
            {
                await tracking.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // failed with it, and set back
                throw;
            }

            if (!held)
            {
                return false;
            }
        }
        else if (!membership.Holds(socketId))
        {
            return false;
        }

        try
        {
            if (op.Untrack)
            {
                await presence.UntrackAsync(socketId, op.Room);
            }
            else
            {
                await (tracking ?? presence.TrackAsync(socketId, op.Room, op.Key, op.Meta!));
            }
        }
        finally
        {
            await RecordAsync(socketId);
        }

        return true;
    }

    /// <summary>A change whose socket, when resumable, has its rooms kept in the cluster before it is answered.</summary>
    private async Task<bool> ChangeAndRecordAsync(string socketId, MembershipChange change)
    {
        if (!await membership.ChangeAsync(socketId, change))
        {
            return false;
        }

        await RecordAsync(socketId);
        return true;
    }

    public async Task<MembersChangeOutcome> ChangeMembers(string room, MembershipChange change)
    {
        var members = journal.Enabled && handOvers.HoldsResumable ? membership.MembersOf(room) : [];
        var outcome = await membership.ChangeMembersAsync(room, change);
        await Task.WhenAll(members.Select(RecordAsync));
        return outcome;
    }

    /// <summary>A resumable socket's rooms changed: the cluster keeps them before the change is answered.</summary>
    private Task RecordAsync(string socketId)
        => journal.Enabled && handOvers.IsKeptInCluster(socketId) && membership.RoomsOf(socketId) is { } rooms ? journal.RecordAsync(socketId, rooms, presence: presence.EntriesOf(socketId)) : Task.CompletedTask;

    public Task<string[]> GetMembers(string room) => Task.FromResult(membership.MembersOf(room));

    public Task<string[]?> GetSocketRooms(string socketId) => Task.FromResult(membership.RoomsOf(socketId));

    public Task<bool> Locate(string socketId) => Task.FromResult(membership.TryMarkLocated(socketId));

    public Task<PresenceEntry[]> GetPresence(string room) => Task.FromResult(presence.EntriesIn(room));

    public Task<string[]> Occupied(string[] rooms) => Task.FromResult(membership.Occupied(rooms));

    public Task<string[]> ListedRooms(int shard, string? after, int count) => Task.FromResult(membership.ListedRooms(shard, after, count));

    public Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd) => handOvers.BeginHandOver(socketId, secret, seq, toFrontEnd);

    public async Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd)
    {
        var handOver = await handOvers.EndHandOver(socketId, toFrontEnd);
        if (handOver is not null)
        {
            journal.Forget(socketId); // it moved: another front end keeps its record now
        }

        return handOver;
    }

    public Task AbortHandOver(string socketId, string toFrontEnd) => handOvers.AbortHandOver(socketId, toFrontEnd);

    /// <summary>Records where a socket held here is (its socket grain), asked by a front end that looks for it; false when it is not held here.</summary>
    public async Task<bool> Relist(string socketId)
    {
        if (!membership.TryMarkLocated(socketId))
        {
            return false;
        }

        await door.RelistSocketsAsync([socketId]);
        return true;
    }

    [LoggerMessage(1, LogLevel.Warning, "A batch for {Count} sockets that moved to front end {FrontEndId} a moment ago could not follow them there.")]
    private partial void LogNotFollowed(Exception exception, int count, string frontEndId);

    [LoggerMessage(2, LogLevel.Information, "A batch of event {EventName} (broadcast {BroadcastId}) came again from this front end's grain after a call that timed out; it was delivered the first time.")]
    private partial void LogTakenAlready(string eventName, Guid broadcastId);
}
