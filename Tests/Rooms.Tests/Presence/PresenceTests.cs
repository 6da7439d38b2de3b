using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Presence;
using Orleans.Rooms.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Rooms.Tests.Presence;

/// <summary>
/// Presence across two front ends of the three-silo cluster (docs/presence.md): the list every front end reads,
/// each transition sent once, a key that stays while one of its sockets is there, and the leaves of a front end
/// that dies without a goodbye.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PresenceTests(ClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task TwoSocketsOfOneKeyAndOneOfAnotherAreListedEverywhereAndEachTransitionIsSentOnce()
    {
        await using var a = await fixture.FrontEnd();
        await using var b = await fixture.FrontEnd();
        var room = Unique.Room();
        var watcher = await a.ConnectAsync();
        await a.Api.JoinAsync(watcher, room);
        var aliceWeb = await a.ConnectAsync();
        var alicePhone = await b.ConnectAsync();
        var bob = await b.ConnectAsync();

        // Bob is a member before anyone tracks, so he is sent every diff however the tracks fall into them (his track by
        // id from the other front end may wait for a registry read, longer than a diff's delay).
        await b.Api.JoinAsync(bob, room);

        await a.Api.TrackAsync(aliceWeb, room, "alice", new { device = "web" });
        await b.Api.TrackAsync(alicePhone, room, "alice", new { device = "phone" });
        await a.Api.TrackAsync(bob, room, "bob"); // tracked through the other front end, by id

        foreach (var api in new[] { a.Api, b.Api, fixture.Api(2) })
        {
            var keys = PresenceLog.Keys(await api.PresenceAsync(room));
            Assert.Equal(new[] { aliceWeb, alicePhone }.Order(), keys["alice"]);
            Assert.Equal([bob], keys["bob"]);
            Assert.Equal(2, keys.Count);
        }

        var inbox = a.InboxOf(watcher);
        await PresenceLog.WaitForAsync(inbox, room, t => t.Join && t.Ref == bob, "bob's join");
        await PresenceLog.WaitForAsync(inbox, room, t => t.Join && t.Ref == alicePhone, "alice's phone's join");

        // One of alice's sockets leaves the room: her key stays, with the other.
        await b.Api.LeaveAsync(alicePhone, room);
        await PresenceLog.WaitForAsync(inbox, room, t => !t.Join && t.Ref == alicePhone, "alice's phone's leave");
        Assert.Equal([aliceWeb], PresenceLog.Keys(await b.Api.PresenceAsync(room))["alice"]);

        // Her last socket disconnects: her key goes.
        await a.DisconnectAsync(aliceWeb);
        await PresenceLog.WaitForAsync(inbox, room, t => !t.Join && t.Ref == aliceWeb, "alice's web socket's leave");
        Assert.Equal(["bob"], PresenceLog.Keys(await b.Api.PresenceAsync(room)).Keys);

        // Nothing more comes: each of the five transitions exactly once, to each member.
        await a.Api.BroadcastAsync([room], "marker", "end");
        await inbox.WaitForAsync("marker", "\"end\"");
        var log = PresenceLog.Of(inbox, room);
        output.WriteLine($"{PresenceLog.DiffsOf(inbox, room)} diffs: {string.Join(", ", log.Select(t => (t.Join ? "+" : "-") + t.Key + "/" + t.Ref))}");
        Assert.Equal(5, log.Count);
        Assert.Equal(5, log.Distinct().Count());
        Assert.Equal(3, log.Count(t => t.Join));
        // Bob, who tracked too, is sent each of them once as well: in his state, or in a diff. A diff his state
        // already had all of is not sent to him; one with a change after his state is, and may repeat some of it.
        var bobInbox = b.InboxOf(bob);
        await bobInbox.WaitForAsync("marker", "\"end\"");
        var bobDiffs = PresenceLog.Of(bobInbox, room);
        var bobState = PresenceLog.StatesOf(bobInbox, room);
        Assert.Equal(bobDiffs.Count, bobDiffs.Distinct().Count());
        Assert.Empty(bobDiffs.Except(log));
        Assert.All(log.Except(bobDiffs), missed => Assert.Contains(missed, bobState));
    }

    [Fact]
    public async Task TheDiffsQueuedForAFrontEndWhileACallIsInFlightGoTogetherInTheNext()
    {
        // A silo's rooms hand their diffs for a front end to its DiffSender. The front end holds the first call until
        // the test lets it go; the 39 diffs handed in meanwhile wait, and go together in the next call, where each room
        // sent its own before.
        const int Diffs = 40;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        FailingDeliveries? counting = null;
        await using var frontEnd = await fixture.FrontEnd(observer: inner => counting = new FailingDeliveries(inner, failFirst: 0, holdUntil: release.Task));
        var sender = ((InProcessSiloHandle)fixture.Cluster.Silos[0]).SiloHost.Services.GetRequiredService<DiffSender>();
        var diffs = Enumerable.Range(0, Diffs).Select(i => new DeliveryBatch(PresenceEvents.Diff, "{}"u8.ToArray(), [Unique.Room()], null, Guid.NewGuid())).ToArray();

        var first = sender.SendAsync(frontEnd.Id, diffs[0]);
        await counting!.Held.WaitAsync(TimeSpan.FromSeconds(10));
        var rest = diffs.Skip(1).Select(diff => sender.SendAsync(frontEnd.Id, diff)).ToArray();
        release.SetResult();
        await Task.WhenAll([first, .. rest]).WaitAsync(TimeSpan.FromSeconds(10));

        output.WriteLine($"{counting.Batches} diffs in {counting.Calls} calls");
        Assert.Equal(Diffs, counting.Batches);
        Assert.Equal(2, counting.Calls);
    }

    [Fact]
    public async Task ADiffAFrontEndsGrainCouldNotHandOverIsSentAgainOnce()
    {
        // The watcher's front end: the first delivery its grain makes is cancelled before it is sent (its silo
        // stopping); the room grain sends that diff again, and the watcher gets each transition once.
        FailingDeliveries? cancelling = null;
        await using var watching = await fixture.FrontEnd(observer: inner => cancelling = new FailingDeliveries(inner, failFirst: 1));
        await using var tracking = await fixture.FrontEnd();
        var room = Unique.Room();
        var watcher = await watching.ConnectAsync();
        await watching.Api.JoinAsync(watcher, room);
        var alice = await tracking.ConnectAsync();

        await tracking.Api.TrackAsync(alice, room, "alice");
        var inbox = watching.InboxOf(watcher);
        await PresenceLog.WaitForAsync(inbox, room, t => t.Join && t.Ref == alice, "alice's join, sent again");
        Assert.Equal(1, cancelling!.Failed);

        await tracking.Api.UntrackAsync(alice, room);
        await PresenceLog.WaitForAsync(inbox, room, t => !t.Join && t.Ref == alice, "alice's leave");
        await tracking.Api.BroadcastAsync([room], "marker", "end");
        await inbox.WaitForAsync("marker", "\"end\"");
        Assert.Equal(2, PresenceLog.Of(inbox, room).Count);
    }

    [Fact]
    public async Task AFrontEndThatDiesMakesItsKeysLeaveWithinThePurgeBoundOnce()
    {
        var lease = TimeSpan.FromSeconds(2);
        await using var a = await fixture.FrontEnd();
        var dying = await fixture.FrontEnd(lease);
        var room = Unique.Room();
        var watcher = await a.ConnectAsync();
        await a.Api.JoinAsync(watcher, room);
        var staying = await a.ConnectAsync();
        await a.Api.TrackAsync(staying, room, "stays");
        var carol = new[] { await dying.ConnectAsync(), await dying.ConnectAsync() };
        foreach (var socket in carol)
        {
            await dying.Api.TrackAsync(socket, room, "carol");
        }

        var inbox = a.InboxOf(watcher);
        await PresenceLog.WaitForAsync(inbox, room, t => t.Join && t.Ref == carol[1], "carol's second join");
        await dying.RenewAsync(lease);
        var crashed = Stopwatch.StartNew();
        dying.Crash();

        // Purge bound: the lease, then the lease check (1 s), then the purge's calls and one diff delay.
        var bound = lease + TimeSpan.FromSeconds(4);
        await PresenceLog.WaitForAsync(inbox, room, t => !t.Join && t.Ref == carol[0], "carol's first leave", bound);
        await PresenceLog.WaitForAsync(inbox, room, t => !t.Join && t.Ref == carol[1], "carol's second leave", bound);
        output.WriteLine($"carol's keys left {crashed.Elapsed.TotalSeconds:F2} s after her front end stopped answering (lease {lease.TotalSeconds} s)");

        await a.Api.BroadcastAsync([room], "marker", "end");
        await inbox.WaitForAsync("marker", "\"end\"");
        var log = PresenceLog.Of(inbox, room);
        Assert.Equal(1, log.Count(t => !t.Join && t.Ref == carol[0]));
        Assert.Equal(1, log.Count(t => !t.Join && t.Ref == carol[1]));
        Assert.DoesNotContain(log, t => t.Ref == staying && !t.Join);
        Assert.Equal(["stays"], PresenceLog.Keys(await a.Api.PresenceAsync(room)).Keys);
        await dying.DisposeAsync();
    }

    [Fact]
    public async Task AThousandSocketsTrackingOneRoomAtOnceReachBothFrontEndsInFewDiffsWithTheirCostNextToAJoinPrinted()
    {
        const int Sockets = 1000;
        await using var a = await fixture.FrontEnd(inboxes: false);
        await using var b = await fixture.FrontEnd(inboxes: false);
        var sockets = new List<(TestFrontEnd FrontEnd, string Id)>();
        for (var i = 0; i < Sockets; i++)
        {
            var frontEnd = i % 2 == 0 ? a : b;
            sockets.Add((frontEnd, await frontEnd.ConnectAsync()));
        }

        // Warm: both paths once, on rooms of their own.
        await RunAsync(sockets.Take(100), Unique.Room(), track: false);
        await RunAsync(sockets.Take(100), Unique.Room(), track: true);

        var joinCpu = await RunAsync(sockets, Unique.Room(), track: false);
        var room = Unique.Room();
        var trackCpu = await RunAsync(sockets, room, track: true);

        // Each front end is sent every join, in a few diffs, each written once to every member there.
        int[] joins = [0, 0];
        await Eventually.HoldsAsync(
            () =>
            {
                joins = [.. new[] { a, b }.Select(f => DiffsTo(f, room).Sum(d => PresenceLog.Joins(d.Payload)))];
                return Task.FromResult(joins.All(j => j == Sockets));
            },
            "every join sent to both front ends",
            TimeSpan.FromSeconds(10));
        var diffs = DiffsTo(a, room).Length + DiffsTo(b, room).Length;
        var writes = DiffsTo(a, room).Sum(d => d.Recipients.Count) + DiffsTo(b, room).Sum(d => d.Recipients.Count);
        Assert.Equal(Sockets, (await a.Api.PresenceAsync(room)).Keys.Count);

        var ratio = trackCpu / joinCpu;
        output.WriteLine($"{Sockets} sockets at once on 2 front ends (warm): a join {Micros(joinCpu, Sockets)} µs CPU, a track {Micros(trackCpu, Sockets)} µs CPU ({ratio:F2}× a join, its state and diffs included); {diffs} diff batches for {Sockets} tracks, {writes} diff writes to sockets");
        Assert.True(diffs <= 40, $"{diffs} diff batches for {Sockets} tracks: they are not batched");
    }

    private static TestFrontEnd.DeliveredBatch[] DiffsTo(TestFrontEnd frontEnd, string room)
        => [.. frontEnd.Batches.Where(x => x.EventName == PresenceEvents.Diff && PresenceLog.RoomOf(x.Payload) == room)];

    private static string Micros(TimeSpan cpu, int count) => (cpu.TotalMilliseconds * 1000 / count).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>All sockets join (or track in) the room at once; the process's CPU time it took.</summary>
    private static async Task<TimeSpan> RunAsync(IEnumerable<(TestFrontEnd FrontEnd, string Id)> sockets, string room, bool track)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var before = process.TotalProcessorTime;
        await Task.WhenAll(sockets.Select(s => track ? s.FrontEnd.Api.TrackAsync(s.Id, room, s.Id) : s.FrontEnd.Api.JoinAsync(s.Id, room)));
        process.Refresh();
        return process.TotalProcessorTime - before;
    }
}

/// <summary>
/// A silo that held rooms with presence dies (docs/presence.md, "Guarantees"): once the front ends relist, every room's
/// presence is what it was, and no member was sent a diff for it: no spurious leave, no spurious join (counted).
/// </summary>
public sealed class PresenceSiloLossTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Rooms = 18;

    private readonly ClusterFixture _cluster = new();

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Fact]
    public async Task AKilledSiloCostsNoDiffOnceRebuiltAndTheListsAreWhole()
    {
        await using var a = await _cluster.FrontEnd();
        await using var b = await _cluster.FrontEnd();
        var rooms = Enumerable.Range(0, Rooms).Select(_ => Unique.Room()).ToArray();
        var watcher = await a.ConnectAsync();
        var trackers = new[] { await a.ConnectAsync(), await b.ConnectAsync(), await b.ConnectAsync() };
        foreach (var room in rooms)
        {
            await a.Api.JoinAsync(watcher, room);
            for (var i = 0; i < trackers.Length; i++)
            {
                var frontEnd = i == 0 ? a : b;
                await frontEnd.Api.TrackAsync(trackers[i], room, $"user{i % 2}", new { i });
            }
        }

        var inbox = a.InboxOf(watcher);
        foreach (var room in rooms)
        {
            await PresenceLog.WaitForAsync(inbox, room, t => t.Join && t.Ref == trackers[^1], $"the last join in {room}");
        }

        var before = await ListsAsync(a.Api, rooms);
        var diffsBefore = rooms.Sum(room => PresenceLog.DiffsOf(inbox, room));

        var (victim, lost) = await SiloHoldingTheMostPresenceAsync(rooms);
        output.WriteLine($"killing {victim.SiloAddress}: it holds {lost} of the {Rooms} rooms' grains, with their presence");
        Assert.True(lost > 0, "no room grain on a secondary silo");
        await _cluster.Cluster.KillSiloAsync(victim);
        await _cluster.WhenDeclaredDeadAsync(victim.SiloAddress);

        // The front ends renew (as live ones do every 2 s) but have not relisted: reads are whole all the same (a
        // room grain that may have lost presence entries says so, and each front end answers for its own).
        await a.RenewAsync(TimeSpan.FromMinutes(5));
        await b.RenewAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(before, await ListsAsync(b.Api, rooms));

        await a.RelistAllAsync();
        await b.RelistAllAsync();
        Assert.Equal(before, await ListsAsync(a.Api, rooms));

        // A change after the rebuild is one diff, one join; nothing before it came.
        var late = await b.ConnectAsync();
        await b.Api.TrackAsync(late, rooms[0], "late");
        await PresenceLog.WaitForAsync(inbox, rooms[0], t => t.Join && t.Ref == late, "the late join");
        await a.Api.BroadcastAsync([.. rooms], "marker", "end");
        await inbox.WaitForAsync("marker", "\"end\"");
        var spurious = rooms.Sum(room => PresenceLog.DiffsOf(inbox, room)) - diffsBefore - 1;
        output.WriteLine($"{diffsBefore} diffs before the kill, {spurious} spurious after the rebuild");
        Assert.Equal(0, spurious);
        Assert.Single(PresenceLog.Of(inbox, rooms[0]), t => t.Ref == late);
    }

    private static async Task<string> ListsAsync(IRoomService api, string[] rooms)
    {
        var lists = new List<string>();
        foreach (var room in rooms)
        {
            var keys = PresenceLog.Keys(await api.PresenceAsync(room));
            lists.Add(room + ": " + string.Join("; ", keys.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => k.Key + "=" + string.Join(",", k.Value))));
        }

        return string.Join("\n", lists);
    }

    private async Task<(Orleans.TestingHost.SiloHandle Silo, int Count)> SiloHoldingTheMostPresenceAsync(string[] rooms)
    {
        var activations = await _cluster.Cluster.Client.GetGrain<Orleans.Runtime.IManagementGrain>(0).GetDetailedGrainStatistics();
        var byName = rooms.ToHashSet(StringComparer.Ordinal);
        var bySilo = activations
            .Where(s => s.GrainType.StartsWith(typeof(IRoomGrain).Namespace + ".RoomGrain,", StringComparison.Ordinal) && byName.Contains(s.GrainId.Key.ToString()!))
            .GroupBy(s => s.SiloAddress)
            .ToDictionary(g => g.Key, g => g.Count());
        var victim = _cluster.Cluster.SecondarySilos.OrderByDescending(s => bySilo.GetValueOrDefault(s.SiloAddress)).First();
        return (victim, bySilo.GetValueOrDefault(victim.SiloAddress));
    }
}
