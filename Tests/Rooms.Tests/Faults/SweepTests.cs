using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Tests.Infrastructure;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using Orleans.TestingHost;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Orleans.Rooms.Tests.Faults;

/// <summary>
/// Two faults at once (docs/design.md, "Sweeping"): a front end dies together with the silo that held its
/// front-end grain and front-end rooms grain, so nobody is left who knows its rooms and sockets but the silos of
/// the room and socket grains themselves. Those sweep it once the registry has stopped listing it.
/// </summary>
public sealed class SweepTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The dying front end's last lease, renewed just before the kill (as FaultTests' short lease).</summary>
    // Long enough that the silo is killed before it runs out (a loaded CI machine took more than 2 s): its own
    // front-end grain would purge it then, and the sweep would have nothing left to do.
    private static readonly TimeSpan ShortLease = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The lease; the first sweep round after it (one period); the first round that starts a renewal period after
    /// that one ended (two more); and 3 s for the calls on a 2-core machine shared with other builds.
    /// </summary>
    private static readonly TimeSpan Bound = ShortLease + (GrainLimits.SweepGoneFrontEndsEvery * 3) + TimeSpan.FromSeconds(3);

    private readonly ClusterFixture _cluster = new();

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Fact]
    public async Task AFrontEndThatDiesWithTheSiloOfItsGrainsIsSweptFromEveryRoomAndSocketGrainWithinItsLeaseAndThreeSweepPeriods()
    {
        var client = _cluster.Cluster.Client;
        var primary = _cluster.Cluster.Primary!.SiloAddress;
        var victim = _cluster.Cluster.SecondarySilos[0];

        // The survivor's grains and the registry on the primary, which lives; the dying front end's grains on the
        // silo that dies with it. Room and socket grains are placed as always: at random, over every silo.
        var alive = await OnSiloAsync(primary, async () =>
        {
            var frontEnd = await _cluster.FrontEnd();
            await client.GetGrain<IFrontEndRoomsGrain>(frontEnd.Id).Unregister([]);
            return frontEnd;
        });
        var dying = await OnSiloAsync(victim.SiloAddress, async () =>
        {
            var frontEnd = await _cluster.FrontEnd();
            await client.GetGrain<IFrontEndRoomsGrain>(frontEnd.Id).Unregister([]);
            return frontEnd;
        });

        await using var stopAlive = alive;
        var api = _cluster.Api(0);
        var shared = Unique.Room();
        var rooms = Enumerable.Range(0, 8).Select(_ => Unique.Room()).ToArray();
        var survivors = new[] { await alive.ConnectAsync(), await alive.ConnectAsync() };
        await api.JoinAsync(survivors, shared);

        // A doomed socket joins the shared room and the eight others, and is broadcast to by id from another front end:
        // its location is recorded in its socket grain, which a sweep must then clear too (docs/design.md, "Locating
        // a socket"). (From a front end that has not changed it: one that has knows where it is without asking a
        // socket grain.) A socket grain is activated only then, at random over the three silos, so four all land on
        // the victim one time in 81: more sockets (up to 16) until at least one grain is elsewhere, which is what the
        // sweep must reach.
        var doomed = new List<string>();
        while (doomed.Count < 4 || (doomed.Count < 16 && !await AnyHostedOutsideAsync(doomed, victim.SiloAddress)))
        {
            var socket = await dying.ConnectAsync();
            doomed.Add(socket);
            foreach (var room in rooms.Prepend(shared))
            {
                await api.JoinAsync(socket, room);
            }

            await _cluster.Api(1).BroadcastAsync(socket, "located", 1);
        }

        await _cluster.Api(1).BroadcastAsync(survivors, "located", 1);

        // The grains the sweep is about: those that outlive the victim. (Those on it come back empty.)
        var activations = await client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        SiloAddress? Host(IAddressable grain) => activations.FirstOrDefault(a => a.GrainId == grain.GetGrainId())?.SiloAddress;
        Assert.Equal(victim.SiloAddress, Host(client.GetGrain<IFrontEndGrain>(dying.Id)));
        Assert.Equal(victim.SiloAddress, Host(client.GetGrain<IFrontEndRoomsGrain>(dying.Id)));
        Assert.Equal(primary, Host(client.GetGrain<IFrontEndGrain>(alive.Id)));
        Assert.Equal(primary, Host(client.GetGrain<IFrontEndRoomsGrain>(alive.Id)));
        Assert.Equal(primary, Host(client.GetGrain<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key)));
        // (Own-id rooms are not listed: docs/design.md, "Locating a socket".)
        var keptRooms = rooms.Append(shared).Where(r => Host(client.GetGrain<IRoomGrain>(r)) is { } silo && !silo.Equals(victim.SiloAddress)).ToArray();
        var keptSockets = doomed.Where(s => Host(client.GetGrain<ISocketGrain>(s)) is { } silo && !silo.Equals(victim.SiloAddress)).ToArray();
        var aliveKeptRooms = new[] { shared }.Where(r => Host(client.GetGrain<IRoomGrain>(r)) is { } silo && !silo.Equals(victim.SiloAddress)).ToArray();
        var aliveKeptSockets = survivors.Where(s => Host(client.GetGrain<ISocketGrain>(s)) is { } silo && !silo.Equals(victim.SiloAddress)).ToArray();
        output.WriteLine($"killing {victim.SiloAddress}: the dying front end's grains are there; {keptRooms.Length} room grains and {keptSockets.Length} of {doomed.Count} socket grains listing it are elsewhere");
        Assert.NotEmpty(keptRooms);
        Assert.NotEmpty(keptSockets);

        // Read on the silos themselves: each grain notes there, in the turn it changes, the front ends it lists
        // (FrontEndHoldings). A read through the cluster could meet a second, empty activation instead while the
        // victim's share of the grain directory (the test cluster's default directory) is being rebuilt.
        var survivorSilos = _cluster.Cluster.Silos.Where(s => !s.Equals(victim)).ToArray();
        var (heldRooms, heldSockets) = HeldOn(survivorSilos, dying.Id);
        Assert.Equal(keptRooms.Order(), heldRooms.Order());
        Assert.Equal(keptSockets.Order(), heldSockets.Order());
        Assert.All(await ListingsAsync(keptRooms), listed => Assert.Contains(dying.Id, listed));

        // Dies without a goodbye, at the same moment as the silo of its grains: its last lease runs from here.
        await dying.RenewAsync(ShortLease);
        dying.Crash();
        await _cluster.Cluster.KillSiloAsync(victim);
        Assert.Equal(keptRooms.Length, HeldOn(survivorSilos, dying.Id).Rooms.Length); // nothing purged it before the kill

        var state = "";
        var sweptAfter = await Eventually.UntilAsync(
            async () =>
            {
                var (rooms, sockets) = HeldOn(survivorSilos, dying.Id);
                var registered = (await client.GetGrain<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key).GetFrontEnds()).Contains(dying.Id);
                state = $"{rooms.Length} room grains still list the dead front end, {sockets.Length} socket grains still name it, registry lists it: {registered}";
                return rooms.Length == 0 && sockets.Length == 0 && !registered;
            },
            () => state,
            Bound,
            TimeSpan.FromMilliseconds(100));
        output.WriteLine($"swept {sweptAfter.TotalSeconds:F1} s after the kill (lease {ShortLease.TotalSeconds} s from the kill, sweep every {GrainLimits.SweepGoneFrontEndsEvery.TotalSeconds} s, bound {Bound.TotalSeconds} s)");

        // The live front end's grains that outlived the victim untouched by the sweeps.
        var (aliveRooms, aliveSockets) = HeldOn(survivorSilos, alive.Id);
        Assert.Equal(aliveKeptRooms.Order(), aliveRooms.Order());
        Assert.Equal(aliveKeptSockets.Order(), aliveSockets.Order());
        Assert.Contains(alive.Id, await client.GetGrain<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key).GetFrontEnds());

        // Read through the cluster once it has declared the victim dead: no room grain lists the dead front end,
        // no socket grain names it; the live one, once it relists as it does when its renewal reports a silo dead,
        // whole on every index.
        await _cluster.WhenDeclaredDeadAsync(victim.SiloAddress);
        foreach (var socket in doomed)
        {
            await Assert.ThrowsAsync<SocketNotFoundException>(() => client.GetGrain<ISocketGrain>(socket).GetFrontEnd());
        }

        Assert.All(await ListingsAsync([.. rooms, shared]), listed => Assert.DoesNotContain(dying.Id, listed));
        await alive.RenewAsync(TimeSpan.FromMinutes(5));
        await alive.RelistAllAsync();
        Assert.Equal(survivors.Order(), (await api.SubscribersAsync(shared)).Order());
        await Indexes.AssertAgreeAsync(client, api, survivors, [shared], alive);
    }

    private async Task<bool> AnyHostedOutsideAsync(IEnumerable<string> sockets, SiloAddress silo)
    {
        var activations = await _cluster.Cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        var ids = sockets.Select(s => _cluster.Cluster.Client.GetGrain<ISocketGrain>(s).GetGrainId()).ToHashSet();
        return activations.Any(a => ids.Contains(a.GrainId) && !a.SiloAddress.Equals(silo));
    }

    /// <summary>Runs <paramref name="act"/> with every grain it activates placed on <paramref name="silo"/> (Orleans' placement hint).</summary>
    private static async Task<T> OnSiloAsync<T>(SiloAddress silo, Func<Task<T>> act)
    {
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
        try
        {
            return await act();
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    private async Task<string[][]> ListingsAsync(string[] rooms)
        => await Task.WhenAll(rooms.Select(async room => (await _cluster.Cluster.Client.GetGrain<IRoomGrain>(room).GetFrontEnds()).FrontEnds));

    /// <summary>The room and socket grains active on <paramref name="silos"/> that list the front end, as they noted it there.</summary>
    private static (string[] Rooms, string[] Sockets) HeldOn(SiloHandle[] silos, string frontEndId)
    {
        var held = silos.Select(s => ((InProcessSiloHandle)s).SiloHost.Services.GetRequiredService<FrontEndHoldings>().Of(frontEndId)).ToArray();
        return ([.. held.SelectMany(h => h.Rooms)], [.. held.SelectMany(h => h.Sockets)]);
    }
}
