using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Rooms.Tests.CostModel;

/// <summary>
/// docs/cost-model.md, checked: each operation's grain calls, counted by method (<see cref="CallTally"/>) and by
/// Orleans' own messaging counters (<see cref="OrleansMessageCounters"/>), against the doc's formula, in a test
/// cluster of 1, 2, 4 and 8 silos with 2 front ends per silo (at most 16), held in-process over the cluster's client
/// as the cluster shape's front ends are. Small N and M: a formula is a count of calls, not a load.
/// </summary>
public sealed class CostModelTests(ITestOutputHelper output)
{
    private const int SocketsPerFrontEnd = 2;

    /// <summary>Short, so that the leave window sees its delisting without waiting the default 2 s.</summary>
    private static readonly Dictionary<string, string?> FrontEndSettings = new()
    {
        ["Rooms:FrontEnd:EmptyRoomLinger"] = "00:00:00.300",
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public async Task EveryOperationCostsTheGrainCallsTheCostModelCountsWhateverTheSiloCount(int silos)
    {
        var started = Stopwatch.GetTimestamp();
        var builder = new TestClusterBuilder((short)silos);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        var frontEnds = new List<TestFrontEnd>();
        try
        {
            var hosts = cluster.Silos.Cast<InProcessSiloHandle>().Select(s => s.SiloHost.Services).ToArray();
            using var counters = new OrleansMessageCounters(hosts.Append(cluster.Client.ServiceProvider).Select(s => s.GetRequiredService<IMeterFactory>()));
            var meter = new CallCount(output, hosts.Select(s => s.GetRequiredService<CallTally>()).ToArray(), counters);
            var f = Math.Min(16, 2 * silos);
            for (var i = 0; i < f; i++)
            {
                frontEnds.Add(await TestFrontEnd.StartAsync(cluster.Client, inboxes: false, settings: FrontEndSettings));
            }

            var sockets = new string[f][];
            for (var i = 0; i < f; i++)
            {
                sockets[i] = new string[SocketsPerFrontEnd];
                for (var j = 0; j < SocketsPerFrontEnd; j++)
                {
                    sockets[i][j] = await frontEnds[i].ConnectAsync();
                }
            }

            // Room "one": a member on front end 1. Room "all": a member on every front end but front end 0.
            var one = Unique.Room();
            var all = Unique.Room();
            await frontEnds[1].Api.JoinAsync(sockets[1][0], one);
            for (var i = 1; i < f; i++)
            {
                await frontEnds[i].Api.JoinAsync(sockets[i][0], all);
            }

            // The registry answers its first read only a renewal period after it activated (it waits for every front
            // end to renew): read once before measuring, as any front end's first blast would.
            await cluster.Client.GetGrain<FrontEnds.IFrontEndRegistryGrain>(FrontEnds.IFrontEndRegistryGrain.Key).GetFrontEnds();

            var here = frontEnds[0];
            var api = here.Api;
            var k = f - 1; // front ends with members of "all", none of them the sender

            await meter.Window("connect and disconnect: a socket that joins nothing", async () =>
            {
                var passing = await here.ConnectAsync();
                await here.DisconnectAsync(passing);
            }, [], frontEndCalls: 0);

            var created = new[] { Unique.Room(), Unique.Room(), Unique.Room() };
            await meter.Window("join: a room new to the cluster, 3 times", async () =>
            {
                foreach (var room in created)
                {
                    await api.JoinAsync(sockets[0][0], room);
                }
            }, new() { ["IFrontEndRoomsGrain.Register"] = 3, ["IRoomGrain.Add"] = 3, ["IRoomDirectoryGrain.Add"] = 3 }, frontEndCalls: 3);

            await meter.Window("join: a room listed by another front end", () => api.JoinAsync(sockets[0][0], one),
                new() { ["IFrontEndRoomsGrain.Register"] = 1, ["IRoomGrain.Add"] = 1 }, frontEndCalls: 1);

            await meter.Window("join: a room listed by this front end", () => api.JoinAsync(sockets[0][1], one), [], frontEndCalls: 0);

            // Never changed from here: the change goes to every other front end at once (the registry's list read first),
            // its holder applies it, the others answer that they do not hold the socket; no socket grain. The join is
            // answered as soon as the holder has applied it, so the others' answers may come in after it.
            await meter.Window("join: another front end's socket, the first time from here, to a room listed there", () => api.JoinAsync(sockets[1][1], all),
                new()
                {
                    ["IFrontEndRegistryGrain.GetFrontEnds"] = 1,
                    ["IFrontEndGrain.Change"] = f - 1,
                    ["observer:Change"] = f - 1,
                },
                frontEndCalls: 1 + (f - 1), asyncTail: true);

            await meter.Window("join: another front end's socket, found before, to a room listed there", () => api.JoinAsync(sockets[1][1], one),
                new() { ["IFrontEndGrain.Change"] = 1, ["observer:Change"] = 1 }, frontEndCalls: 1);

            await meter.Window("broadcast: a room with members here and on 1 other front end", () => api.BroadcastAsync([one], "e", 1),
                new() { ["IRoomGrain.GetFrontEnds"] = 1, ["IFrontEndGrain.Deliver"] = 1, ["observer:Deliver"] = 1 }, frontEndCalls: 2);

            await meter.Window($"broadcast: a room with members on k = {k} other front ends", () => api.BroadcastAsync([all], "e", 2),
                new() { ["IRoomGrain.GetFrontEnds"] = 1, ["IFrontEndGrain.Deliver"] = k, ["observer:Deliver"] = k }, frontEndCalls: 1 + k);

            await meter.Window($"blast: F = {f} front ends", () => api.BlastAsync("e", 3),
                new() { ["IFrontEndRegistryGrain.GetFrontEnds"] = 1, ["IFrontEndGrain.Deliver"] = f - 1, ["observer:Deliver"] = f - 1 }, frontEndCalls: f);

            await meter.Window($"read: subscribers of a room on k = {k} other front ends", () => api.SubscribersAsync(all),
                new() { ["IRoomGrain.GetFrontEnds"] = 1, ["IFrontEndGrain.GetMembers"] = k, ["observer:GetMembers"] = k }, frontEndCalls: 1 + k);

            // Rooms(): the 16 shards, each listed room's grain, each other front end listed in any of them (room "all"'s).
            var listed = created.Length + 2;
            await meter.Window($"read: a Rooms() page of r = {listed} rooms held on {k + 1} front ends", async () => Assert.Equal(listed, (await api.RoomsAsync()).Rooms.Count),
                new() { ["IRoomDirectoryGrain.Page"] = 16, ["IRoomGrain.GetListedFrontEnds"] = listed, ["IFrontEndGrain.Occupied"] = k, ["observer:Occupied"] = k },
                frontEndCalls: 16 + listed + k);

            var added = Unique.Room();
            await meter.Window($"room-wide: a room's members on k = {k} front ends join a new room", () => api.AddRoomMembersToRoomsAsync(all, [added]),
                new()
                {
                    ["IRoomGrain.GetFrontEnds"] = 1,
                    ["IFrontEndGrain.ChangeMembers"] = k,
                    ["observer:ChangeMembers"] = k,
                    ["IFrontEndRoomsGrain.Register"] = k,
                    ["IRoomGrain.Add"] = k,
                    ["IRoomDirectoryGrain.Add"] = 1,
                },
                frontEndCalls: 1 + k + k, firstTouchFrom: k);

            // A track in a room listed here already: the change and its diff, sent to both front ends of the room
            // through their grains (the tracker's own too: a diff leaves the room grain, not a front end), read from the
            // room grain's own memory; with the diffs of the silo's other rooms to the same front end, in one call (none here).
            await meter.Window("presence: a track in a room listed here and on 1 other front end", () => api.TrackAsync(sockets[0][0], one, "k0"),
                new() { ["IFrontEndRoomsGrain.Presence"] = 1, ["IRoomGrain.ApplyPresence"] = 1, ["IFrontEndGrain.DeliverAll"] = 2, ["observer:DeliverAll"] = 2 },
                frontEndCalls: 1, asyncTail: true);

            // A track that joins a room new to the cluster: its front end's listing rides with the entry, in one call,
            // and the room grain lists the front end and applies the entry in one turn: the grain calls of a join, plus the diff.
            await meter.Window("presence: a track that joins a room new to the cluster", () => api.TrackAsync(sockets[0][0], Unique.Room(), "k0"),
                new()
                {
                    ["IFrontEndRoomsGrain.Presence"] = 1,
                    ["IRoomGrain.ApplyPresence"] = 1,
                    ["IRoomDirectoryGrain.Add"] = 1,
                    ["IFrontEndGrain.DeliverAll"] = 1,
                    ["observer:DeliverAll"] = 1,
                },
                frontEndCalls: 1, asyncTail: true);

            var lingering = Unique.Room();
            await api.JoinAsync(sockets[0][1], lingering);
            await meter.Window("leave and join again within the linger", async () =>
            {
                await api.LeaveAsync(sockets[0][1], lingering);
                await api.JoinAsync(sockets[0][1], lingering);
            }, [], frontEndCalls: 0);

            await meter.Window("leave: the room's last member, delisted after the linger and the room grain's 2 s", () => api.LeaveAsync(sockets[0][1], lingering),
                new() { ["IFrontEndRoomsGrain.Unregister"] = 1, ["IRoomGrain.Remove"] = 1, ["IRoomDirectoryGrain.Remove"] = 1 },
                frontEndCalls: 1, asyncTail: true);

            // Relisting after a silo loss: the located sockets' locations (one of this front end's two: another front end
            // broadcast to its id) and every listed room again, in bulk calls; own-id rooms nobody else joined are not listed. The
            // directory is entered again at most once a second per room, so its count is a bound, not a number.
            // First, another front end broadcasts to one of this front end's sockets by id: no socket grain has it yet,
            // so that front end asks every other attached one, the holder records its location, and the event goes to it.
            // The search is answered as soon as the holder has answered, so the others' answers may come in after it.
            await meter.Window("broadcast: to another front end's socket by id, the first time from there", () => frontEnds[1].Api.BroadcastAsync([sockets[0][0]], "e", 0),
                new()
                {
                    ["IRoomGrain.GetFrontEnds"] = 1,
                    ["ISocketGrain.GetFrontEnd"] = 1,
                    ["IFrontEndRegistryGrain.GetFrontEnds"] = 1,
                    ["IFrontEndGrain.Relist"] = f - 1,
                    ["observer:Locate"] = f - 1,
                    ["ISocketGrain.Connect"] = 1,
                    ["IFrontEndGrain.Deliver"] = 1,
                    ["observer:Deliver"] = 1,
                },
                frontEndCalls: 1 + 1 + 1 + (f - 1) + 1, asyncTail: true);
            Assert.True(here.IsLocated(sockets[0][0]));
            Assert.False(here.IsLocated(sockets[0][1]));
            var ownRooms = here.SocketIds.ToHashSet(StringComparer.Ordinal);
            var listable = here.SocketIds.SelectMany(id => here.RecordOf(id)!).Where(r => !ownRooms.Contains(r)).Distinct(StringComparer.Ordinal).Count();
            await meter.Window($"heal: one front end relists 1 located socket of n = {SocketsPerFrontEnd}, l = {listable} rooms, 2 presence rooms", here.RelistAllAsync,
                new()
                {
                    ["IFrontEndGrain.RelistSockets"] = 1,
                    ["ISocketGrain.Connect"] = 1,
                    ["IFrontEndRoomsGrain.Register"] = 1,
                    ["IRoomGrain.Add"] = listable,
                    ["IFrontEndRoomsGrain.Presence"] = 2,
                    ["IRoomGrain.ApplyPresence"] = 2,
                },
                frontEndCalls: 1 + 1 + 2, bounded: new() { ["IRoomDirectoryGrain.Add"] = listable });

            // Losing a front end: its lease lapses and its grain purges it from every room and socket it listed.
            var lost = frontEnds[^1];
            var lostRooms = lost.SocketIds.SelectMany(id => lost.RecordOf(id)!.Where(room => room != id)).Distinct(StringComparer.Ordinal).Count();
            var lostLocated = lost.SocketIds.Count(lost.IsLocated);
            await lost.RenewAsync(TimeSpan.FromSeconds(1));
            lost.Crash();
            await meter.Window($"heal: a front end with n = {SocketsPerFrontEnd} sockets ({lostLocated} located) in m = {lostRooms} rooms is lost (lease lapses)", () => Task.CompletedTask,
                new()
                {
                    ["IFrontEndRoomsGrain.Purge"] = 1,
                    ["IRoomGrain.Remove"] = lostRooms,
                    ["ISocketGrain.Disconnect"] = lostLocated,
                    ["IFrontEndRegistryGrain.Unregister"] = 1,
                },
                frontEndCalls: 0, asyncTail: true, bounded: new() { ["IRoomDirectoryGrain.Remove"] = lostRooms });
            frontEnds.Remove(lost);
            await lost.DisposeAsync();
        }
        finally
        {
            foreach (var frontEnd in frontEnds)
            {
                await frontEnd.DisposeAsync();
            }

            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
            output.WriteLine($"{silos} silos: {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
        }
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddRoomGrains();
            siloBuilder.Services.AddSingleton<CallTally>();
            siloBuilder.Services.AddSingleton<IIncomingGrainCallFilter>(s => s.GetRequiredService<CallTally>());
            siloBuilder.Services.AddSingleton<IOutgoingGrainCallFilter>(s => s.GetRequiredService<CallTally>());
        }
    }

    /// <summary>Counts one window's calls and checks them.</summary>
    private sealed class CallCount(ITestOutputHelper output, CallTally[] tallies, OrleansMessageCounters counters)
    {
        /// <summary>
        /// Runs <paramref name="operation"/> and checks what it cost: each method of <paramref name="expected"/>
        /// exactly, each of <paramref name="bounded"/> at most, nothing else of the service's own; Orleans' count of
        /// grain requests equal to the calls the silos' filters saw, the client's requests to
        /// <paramref name="frontEndCalls"/> and the gateways' requests to the client to the observer calls.
        /// </summary>
        /// <param name="firstTouchFrom">How many callers may call a grain the window activates at once.</param>
        /// <param name="asyncTail">The operation returns before its calls end (a timer, a loop): wait until they are all in.</param>
        public async Task Window(string what, Func<Task> operation, Dictionary<string, long> expected, long frontEndCalls, bool asyncTail = false, Dictionary<string, long>? bounded = null, int firstTouchFrom = 1)
        {
            var before = Tally();
            var orleansBefore = counters.Read();
            await operation();
            if (asyncTail)
            {
                // The filters count a call to a front end before Orleans writes it to the gateway's connection (where
                // Orleans counts it): wait for both.
                var toFrontEnds = expected.Where(e => e.Key.StartsWith(CallTally.ObserverPrefix, StringComparison.Ordinal)).Sum(e => e.Value);
                await Eventually.HoldsAsync(
                    () => Task.FromResult(expected.All(e => Delta(before, Tally(), e.Key) >= e.Value) && (counters.Read() - orleansBefore).ObserverRequests >= toFrontEnds),
                    $"the calls of '{what}'",
                    TimeSpan.FromSeconds(15));
            }

            // Orleans counts a request when an activation receives it, the filters when it runs: under load, one received
            // just before this point (a renewal, a call from a timer) may not have run yet. Nothing announces that it
            // has: wait, bounded, for the two counts to agree before judging them.
            OrleansMessageCounters.Counts orleans = default;
            Dictionary<string, long> counted = [];
            await Eventually.UntilAsync(
                () =>
                {
                    (orleans, counted) = Measure(before, orleansBefore);
                    return Task.FromResult(Agree(orleans, counted, frontEndCalls, firstTouchFrom));
                },
                () => $"{what}: Orleans' counts agreeing with the filters' ({orleans}; filters: {Incoming(counted)} to grains, {Observer(counted)} to front ends)",
                SettleWithin,
                TimeSpan.FromMilliseconds(20));

            var clientUpkeep = ClientUpkeep(counted);
            var incoming = Incoming(counted);
            var observer = Observer(counted);
            output.WriteLine($"{what}: {string.Join(", ", counted.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}"))}; Orleans: {orleans}");

            foreach (var (method, count) in expected)
            {
                Assert.True(counted.GetValueOrDefault(method) == count, $"{what}: {method} counted {counted.GetValueOrDefault(method)}, the model says {count}.");
            }

            foreach (var (method, most) in bounded ?? [])
            {
                Assert.True(counted.GetValueOrDefault(method) <= most, $"{what}: {method} counted {counted.GetValueOrDefault(method)}, the model says at most {most}.");
            }

            var unexpected = counted.Keys.Except(expected.Keys).Except(bounded?.Keys.AsEnumerable() ?? []).Where(key => !IsBackground(key)).ToArray();
            Assert.True(unexpected.Length == 0, $"{what}: calls the model does not count: {string.Join(", ", unexpected.Select(key => $"{key} {counted[key]}"))}.");

            var background = Background(counted);
            Assert.True(
                GrainRequestsAgree(orleans, counted, firstTouchFrom),
                $"{what}: Orleans counted {orleans.GrainRequests} requests to grains, the filters {incoming} ({background} of them background).");
            Assert.True(orleans.ObserverRequests == observer, $"{what}: Orleans counted {orleans.ObserverRequests} requests to front ends, the filters {observer}.");
            Assert.True(orleans.ClientRequests == frontEndCalls + clientUpkeep, $"{what}: Orleans counted {orleans.ClientRequests} requests from front ends, the model says {frontEndCalls} (and {clientUpkeep} of the client's own upkeep).");
        }

        private const string SweeperRead = "IFrontEndRegistryGrain.GetFrontEnds" + CallTally.SiloSuffix;

        /// <summary>How long a window waits for the requests Orleans received to have run (and so been seen by the filters).</summary>
        private static readonly TimeSpan SettleWithin = TimeSpan.FromSeconds(5);

        private (OrleansMessageCounters.Counts Orleans, Dictionary<string, long> Counted) Measure(Dictionary<string, long> before, OrleansMessageCounters.Counts orleansBefore)
        {
            var after = Tally();
            var orleans = counters.Read() - orleansBefore;
            var counted = after.Keys.Select(key => (Key: key, Count: Delta(before, after, key))).Where(c => c.Count != 0).ToDictionary(c => c.Key, c => c.Count);
            return (orleans, counted);
        }

        private static bool Agree(OrleansMessageCounters.Counts orleans, Dictionary<string, long> counted, long frontEndCalls, int firstTouchFrom)
            => GrainRequestsAgree(orleans, counted, firstTouchFrom)
               && orleans.ObserverRequests == Observer(counted)
               && orleans.ClientRequests == frontEndCalls + ClientUpkeep(counted);

        /// <summary>
        /// Every call of the operation is in both counts (the operation awaited it), but a background one (a timer's
        /// tick, a sweeper's read) received just before a window edge may run just after it (ticks of timers started
        /// together come together): at most the background requests of the window, and 2. Where several callers call a
        /// grain that does not exist yet at once (firstTouchFrom > 1), each may start an activation of it (random
        /// placement); the directory keeps one and the others hand it their caller's request: received twice, at most
        /// once per caller. The service's own calls are counted exactly, method by method.
        /// </summary>
        private static bool GrainRequestsAgree(OrleansMessageCounters.Counts orleans, Dictionary<string, long> counted, int firstTouchFrom)
        {
            var background = Background(counted);
            var excess = orleans.GrainRequests - Incoming(counted);
            return excess >= -(2 + background) && excess <= 2 + background + (firstTouchFrom > 1 ? firstTouchFrom : 0);
        }

        private static long Background(Dictionary<string, long> counted)
            => counted.Where(c => c.Key == SweeperRead || c.Key.StartsWith(CallTally.TimerPrefix, StringComparison.Ordinal)).Sum(c => c.Value);

        private static long Incoming(Dictionary<string, long> counted)
            => counted.Where(c => !c.Key.StartsWith(CallTally.ObserverPrefix, StringComparison.Ordinal) && !c.Key.StartsWith(CallTally.RuntimePrefix, StringComparison.Ordinal)).Sum(c => c.Value);

        private static long Observer(Dictionary<string, long> counted)
            => counted.Where(c => c.Key.StartsWith(CallTally.ObserverPrefix, StringComparison.Ordinal)).Sum(c => c.Value);

        private static long ClientUpkeep(Dictionary<string, long> counted)
            => counted.Where(c => c.Key.StartsWith(CallTally.RuntimePrefix, StringComparison.Ordinal) && c.Key.EndsWith(CallTally.ClientSuffix, StringComparison.Ordinal)).Sum(c => c.Value);

        /// <summary>What runs whatever the window does: the sweeper's reads, grain timers' ticks, Orleans' own system targets.</summary>
        private static bool IsBackground(string key)
            => key == SweeperRead || key.StartsWith(CallTally.TimerPrefix, StringComparison.Ordinal) || key.StartsWith(CallTally.RuntimePrefix, StringComparison.Ordinal);

        private Dictionary<string, long> Tally()
        {
            var sum = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var tally in tallies)
            {
                foreach (var (key, count) in tally.Snapshot())
                {
                    sum[key] = sum.GetValueOrDefault(key) + count;
                }
            }

            return sum;
        }

        private static long Delta(Dictionary<string, long> before, Dictionary<string, long> after, string key) => after.GetValueOrDefault(key) - before.GetValueOrDefault(key);
    }
}
