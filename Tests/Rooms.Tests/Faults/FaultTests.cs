using System.Diagnostics;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Tests.Infrastructure;
using Xunit.Abstractions;
using Orleans.Core.Internal;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Tests.Faults;

/// <summary>
/// SPEC guarantees 3 and 6: a front end that dies without a goodbye leaves no ghosts, and whatever callers
/// and grains do — give up, fail — a membership change ends up on every index or on none.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FaultTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan ShortLease = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task ABroadcastThatAFrontEndsGrainCouldNotHandOverIsSentAgainNotDropped()
    {
        // The member's front end: the first delivery its grain makes is cancelled before it is sent, as when the
        // grain's silo stops (a SIGTERM'd silo did this to a randomized fault run: the broadcast was answered, the
        // batch dropped, and the front end counted as gone until it renewed).
        FailingDeliveries? cancelling = null;
        await using var member = await fixture.FrontEnd(observer: inner => cancelling = new FailingDeliveries(inner, failFirst: 1));
        await using var sender = await fixture.FrontEnd();
        var room = Unique.Room();
        var socket = await member.ConnectAsync();
        await member.Api.JoinAsync(socket, room);

        await sender.Api.BroadcastAsync([room], "handed", 1);
        Assert.Equal(1, cancelling!.Failed);
        var inbox = member.InboxOf(socket);
        await inbox.WaitForAsync("handed", "1");

        // Not counted as gone: the next broadcast goes straight through, and each arrived once.
        await sender.Api.BroadcastAsync([room], "handed", 2);
        await inbox.WaitForAsync("handed", "2");
        Assert.Equal(["1", "2"], inbox.Received.Where(e => e.Event == "handed").Select(e => e.Payload));

        // Asked of the grain itself: the call fails as not handed over (a sender retries it), rather than answering
        // as if the front end were gone.
        await using var direct = await fixture.FrontEnd(observer: inner => new FailingDeliveries(inner, failFirst: 1));
        var grain = fixture.Cluster.Client.GetGrain<IFrontEndGrain>(direct.Id);
        var batch = new DeliveryBatch("direct", "1"u8.ToArray(), [room], null, Guid.NewGuid());
        var notReached = await Assert.ThrowsAsync<FrontEndNotReachedException>(() => grain.Deliver(batch));
        Assert.Equal(direct.Id, notReached.FrontEndId);
        await grain.Deliver(batch);
    }

    [Theory]
    [InlineData(DeliveryFailure.TimedOutOnTheWay)]
    [InlineData(DeliveryFailure.TimedOutAfterArriving)]
    public async Task BroadcastsToALiveFrontEndThatDidNotAnswerAreHeldAndReachItOnceInOrderWhenItRenews(DeliveryFailure how)
    {
        // A randomized fault run (seed 654464848) killed the gateway silo of a front end: its grain's delivery timed
        // out, and the grain dropped every batch for it until it renewed 6 s later; 4 sockets missed a broadcast that
        // was answered as sent. The front end's lease was current: it was alive, only out of reach for a moment.
        FailingDeliveries? failing = null;
        await using var member = await fixture.FrontEnd(observer: inner => failing = new FailingDeliveries(inner, failFirst: 1, how));
        await using var sender = await fixture.FrontEnd();
        var room = Unique.Room();
        var socket = await member.ConnectAsync();
        await member.Api.JoinAsync(socket, room);
        var inbox = member.InboxOf(socket);
        string[] Received() => [.. inbox.Received.Where(e => e.Event == "held").Select(e => e.Payload)];

        // Each answered (the front end is alive); the first call timed out, the next two were not even tried.
        for (var i = 1; i <= 3; i++)
        {
            await sender.Api.BroadcastAsync([room], "held", i);
        }

        Assert.Equal(1, failing!.Failed);
        Assert.Equal(0, failing.Calls);
        Assert.Equal(how == DeliveryFailure.TimedOutAfterArriving ? ["1"] : [], Received());

        // Its next renewal says it can be reached again: what was held goes to it in one call, the batch that may
        // have arrived included, and it takes each batch once.
        await member.RenewAsync(TimeSpan.FromMinutes(5));
        await inbox.WaitForAsync("held", "3");
        Assert.Equal(1, failing.Calls);
        Assert.Equal(["1", "2", "3"], Received());

        // Reachable again: the next broadcast goes straight through.
        await sender.Api.BroadcastAsync([room], "held", 4);
        await inbox.WaitForAsync("held", "4");
        Assert.Equal(2, failing.Calls);
        Assert.Equal(["1", "2", "3", "4"], Received());
    }

    [Fact]
    public async Task AFrontEndThatStopsRenewingIsPurgedFromEveryRoomWithinItsLeaseAndTheOthersAreUntouched()
    {
        var api = fixture.Api(0);

        // A registry activated just now answers its first read a renewal period later (it waits for every front end
        // to renew), and the joins below by id read it (to ask every front end): read once before the short lease runs.
        await fixture.Grains(0).GetGrain<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key).GetFrontEnds();
        await using var alive = await fixture.FrontEnd();
        var dying = await fixture.FrontEnd(TimeSpan.FromSeconds(30));
        var (shared, own) = (Unique.Room(), Unique.Room());
        var survivors = new[] { await alive.ConnectAsync(), await alive.ConnectAsync() };
        var doomed = new[] { await dying.ConnectAsync(), await dying.ConnectAsync(), await dying.ConnectAsync() };
        await api.JoinAsync(survivors, shared);
        await api.JoinAsync(doomed, shared);
        await api.JoinAsync(doomed, own);

        // Its last renewal: the lease runs from here.
        await dying.RenewAsync(ShortLease);
        var clock = Stopwatch.StartNew();
        dying.Crash();
        await Eventually.HoldsAsync(async () => !(await fixture.Grains(0).GetGrain<IRoomGrain>(shared).GetFrontEnds()).FrontEnds.Contains(dying.Id), "the dead front end being purged from its rooms");

        var purgedAfter = clock.Elapsed;
        output.WriteLine($"purged {purgedAfter.TotalSeconds:F1} s after the front end stopped (lease {ShortLease.TotalSeconds} s, renewed last when it started)");
        Assert.Equal(survivors.Order(), (await api.SubscribersAsync(shared)).Order());
        Assert.Empty(await api.SubscribersAsync(own));
        Assert.DoesNotContain(own, (await api.RoomsAsync(limit: RoomPage.MaxLimit)).Rooms);
        foreach (var socket in doomed)
        {
            await Assert.ThrowsAsync<SocketNotFoundException>(() => api.SocketRoomsAsync(socket));
            Assert.Empty(await api.SubscribersAsync(socket));
        }

        await Eventually.HoldsAsync(async () => !(await fixture.Cluster.Client.GetGrain<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key).GetFrontEnds()).Contains(dying.Id), "the dead front end leaving the registry (blasts stop going to it)");
        await api.BroadcastAsync([shared], "after", 1);
        foreach (var socket in survivors)
        {
            await alive.InboxOf(socket).WaitForAsync("after", "1");
        }

        await Indexes.AssertAgreeAsync(fixture.Cluster.Client, api, [.. survivors, .. doomed], [shared, own], alive);
        Assert.True(purgedAfter < ShortLease + TimeSpan.FromSeconds(3), $"purged after {purgedAfter}");
    }

    [Fact]
    public async Task ARegistrationNobodyRenewsLapsesWithItsLeaseAndLookupsStopWaitingForIt()
    {
        var api = fixture.Api(0);
        var registry = fixture.Cluster.Client.GetGrain<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key);

        // What a front end leaves when it dies together with the silo of its grain: an entry nobody renews and
        // nobody unregisters (the grain that would purge it is gone, and a new one knows nothing of it).
        // (Asked once first: a registry that was just activated waits out one renewal period before it answers.)
        await registry.GetFrontEnds();
        var ghost = "ghost-" + Unique.Room();
        await registry.Register(ghost, TimeSpan.FromSeconds(2));
        Assert.Contains(ghost, await registry.GetFrontEnds());
        await Eventually.HoldsAsync(async () => !(await registry.GetFrontEnds()).Contains(ghost), "the unrenewed entry lapsing");

        // Listed, the ghost made every lookup of an unknown socket ask its (new, empty) grain, which first waits
        // up to FrontEndRenewal.MaxPeriod for a renewal that never comes.
        var lookup = Stopwatch.StartNew();
        await Assert.ThrowsAsync<SocketNotFoundException>(() => api.SocketRoomsAsync(Unique.Room()));
        output.WriteLine($"unknown socket answered in {lookup.ElapsedMilliseconds} ms once the ghost lapsed");
        Assert.True(lookup.Elapsed < FrontEndRenewal.MaxPeriod / 2, $"an unknown socket took {lookup.Elapsed} to answer");
    }

    [Fact]
    public async Task ARegistryJustActivatedNamesAListedFrontEndAtOnceAndTakesRenewalsWhileAReadWaits()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var registry = fixture.Cluster.Client.GetGrain<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key);

        // As after the loss of its silo: a new activation, empty until the front ends renew.
        await registry.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var young = Stopwatch.StartNew();
        var list = registry.GetFrontEnds();

        // The list waits out a renewal period (a front end that has not renewed yet would be missing from it); the
        // renewal it waits for, and the check of a front end already listed, do not queue behind it.
        await frontEnd.RenewAsync(TimeSpan.FromSeconds(30));
        Assert.True(await registry.IsAttached(frontEnd.Id));
        var answered = young.Elapsed;
        Assert.False(list.IsCompleted, $"the young registry's list answered after {young.Elapsed}");
        Assert.True(answered < FrontEndRenewal.MaxPeriod / 2, $"a renewal and a check of a listed front end took {answered}");

        Assert.Contains(frontEnd.Id, await list);
        Assert.True(young.Elapsed >= FrontEndRenewal.MaxPeriod - TimeSpan.FromSeconds(1), $"the list answered after {young.Elapsed}");
        Assert.False(await registry.IsAttached("nobody-" + Unique.Room()));
        output.WriteLine($"listed front end named {answered.TotalMilliseconds:F0} ms after the registry's activation; its list after {young.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task AFirstChangeByIdWaitsNeitherForAFrontEndSlowToSayNoNorForOneThatJustDetached()
    {
        var registry = fixture.Cluster.Client.GetGrain<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key);
        await registry.GetFrontEnds(); // a registry activated just now answers its first read a renewal period later
        await using var holder = await fixture.FrontEnd();
        await using var asker = await fixture.FrontEnd();
        var leaving = await fixture.FrontEnd();
        var socket = await holder.ConnectAsync();

        // The asker reads the list of attached front ends with its first change of another front end's socket, and uses
        // it for 3 s. A front end that detaches meanwhile is still on it: asked, its grain says no at once.
        await asker.Api.JoinAsync(socket, Unique.Room());
        await leaving.DisposeAsync();
        var unknown = Stopwatch.StartNew();
        await Assert.ThrowsAsync<SocketNotFoundException>(() => asker.Api.SocketRoomsAsync("nobody-" + Unique.Room()));
        Assert.True(unknown.Elapsed < FrontEndRenewal.MaxPeriod / 2, $"an unknown socket took {unknown.Elapsed} to answer with a front end that just detached on the list");

        // A listed front end whose grain is new and hears from nobody (as after the silo of a dead front end's grain went)
        // says no only after a renewal period: the holder's answer does not wait for it.
        var ghost = "ghost-" + Unique.Room();
        await registry.Register(ghost, TimeSpan.FromSeconds(30));
        try
        {
            await using var fresh = await fixture.FrontEnd();
            var room = Unique.Room();
            var change = Stopwatch.StartNew();
            await fresh.Api.JoinAsync(socket, room);
            Assert.True(change.Elapsed < FrontEndRenewal.MaxPeriod / 2, $"a first change by id took {change.Elapsed} with a slow front end on the list");
            Assert.Contains(room, holder.RecordOf(socket)!);
            output.WriteLine($"unknown socket: {unknown.ElapsedMilliseconds} ms with a detached front end listed; first change by id: {change.ElapsedMilliseconds} ms with a slow one listed");
        }
        finally
        {
            await registry.Unregister(ghost);
        }
    }

    [Fact]
    public async Task AFrontEndPurgedWhileAliveSeesANewIncarnationAndRestoresEveryMembership()
    {
        var api = fixture.Api(1);
        var lagging = await fixture.FrontEnd(ShortLease);
        try
        {
            var before = await lagging.RenewAsync(ShortLease);
            var room = Unique.Room();
            var sockets = new[] { await lagging.ConnectAsync(), await lagging.ConnectAsync() };
            await api.JoinAsync(sockets, room);

            // Too slow to renew (a long pause, a partition): the cluster purges it while it still holds its sockets.
            await Eventually.HoldsAsync(async () => !(await fixture.Grains(0).GetGrain<IRoomGrain>(room).GetFrontEnds()).FrontEnds.Contains(lagging.Id), "the purge of the lagging front end");
            Assert.Empty(await api.SubscribersAsync(room));

            var after = await lagging.RenewAsync(TimeSpan.FromMinutes(5));
            Assert.NotEqual(before.Incarnation, after.Incarnation);
            await lagging.RelistAllAsync();

            Assert.Equal(sockets.Order(), (await api.SubscribersAsync(room)).Order());
            await Indexes.AssertAgreeAsync(fixture.Cluster.Client, api, sockets, [room], lagging);
        }
        finally
        {
            await lagging.DisposeAsync();
        }
    }

    [Fact]
    public async Task ACallerThatGivesUpMidJoinLeavesEveryIndexAgreeing()
    {
        var api = fixture.Api(1);
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var rooms = Enumerable.Range(0, ClusterFixture.MaxRoomsPerSocket - 1).Select(_ => Unique.Room()).ToArray();
        var gaveUp = 0;
        for (var i = 0; i < rooms.Length; i++)
        {
            using var giveUp = new CancellationTokenSource(TimeSpan.FromTicks(i * 2_000));
            try
            {
                await api.JoinAsync(socket, rooms[i], giveUp.Token);
            }
            catch (OperationCanceledException)
            {
                gaveUp++;
            }
        }

        // The grains finish what they started whatever the caller did; then every index agrees.
        await Eventually.HoldsAsync(async () => (await api.SocketRoomsAsync(socket)).Count == rooms.Length + 1, "every started join finishing");
        await Indexes.AssertAgreeAsync(fixture.Cluster.Client, api, [socket], rooms, frontEnd);
        Assert.True(gaveUp > 0, "no caller gave up; the test proved nothing");
    }

    [Fact]
    public async Task AFailingRoomGrainLeavesNoHalfJoinOnAnyIndex()
    {
        var api = fixture.Api(2);
        await using var frontEnd = await fixture.FrontEnd();
        var a = await frontEnd.ConnectAsync();
        var b = await frontEnd.ConnectAsync();
        var (good, failing, source) = (Unique.Room(), FailingRoomsFilter.Prefix + Unique.Room(), Unique.Room());
        await api.JoinAsync(new[] { a, b }, source);

        var single = await Assert.ThrowsAsync<InvalidOperationException>(() => api.JoinAsync(a, failing));
        var partial = await Assert.ThrowsAsync<PartialFailureException>(() => api.AddRoomMembersToRoomsAsync(source, [good, failing]));

        Assert.Contains(failing, single.Message);
        Assert.Equal(2, partial.Failures.Count);
        Assert.Equal(new[] { a, b }.Order(), (await api.SubscribersAsync(good)).Order());
        Assert.Empty(await api.SubscribersAsync(failing));
        Assert.DoesNotContain(failing, await api.SocketRoomsAsync(a));
        await Indexes.AssertAgreeAsync(fixture.Cluster.Client, api, [a, b], [good, failing, source], frontEnd);
    }

    [Fact]
    public async Task ARoomThatLostItsFrontEndBehindItsBackListsItAgainOnceTheFrontEndRelists()
    {
        var api = fixture.Api(0);
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var room = Unique.Room();
        await api.JoinAsync(socket, room);

        // The room index diverges (as if its grain had been rebuilt without this front end); a join of a room
        // the front end holds already stays on the front end, so what repairs it is the rebuild a lost silo
        // triggers.
        await fixture.Grains(1).GetGrain<IRoomGrain>(room).Remove(frontEnd.Id);
        Assert.Empty(await api.SubscribersAsync(room));

        await frontEnd.RelistAllAsync();

        Assert.Equal([socket], await api.SubscribersAsync(room));
        await Indexes.AssertAgreeAsync(fixture.Cluster.Client, api, [socket], [room], frontEnd);
    }
}
