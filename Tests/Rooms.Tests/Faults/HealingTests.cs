using Orleans.Rooms.Membership;
using Orleans.Rooms.Tests.Infrastructure;
using Orleans.Runtime;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Rooms.Tests.Faults;

/// <summary>
/// Never silently wrong while the cluster heals (docs/design.md, "Healing"): after a silo that held room grains
/// dies, and before the front ends have listed their rooms again, every broadcast still reaches every member
/// whose join completed, and every read answers whole. The front ends here renew (as live ones do every 2 s)
/// but do not relist until the test says so: that is the window in which new room grains list no front end.
/// </summary>
public sealed class HealingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Rooms = 24;

    private readonly ClusterFixture _cluster = new();

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Fact]
    public async Task BroadcastsAndReadsToRoomsWhoseGrainsDiedReachEveryMemberBeforeTheFrontEndsRelist()
    {
        await using var a = await _cluster.FrontEnd();
        await using var b = await _cluster.FrontEnd();
        var onA = new[] { await a.ConnectAsync(), await a.ConnectAsync() };
        var onB = new[] { await b.ConnectAsync(), await b.ConnectAsync() };
        var rooms = Enumerable.Range(0, Rooms).Select(_ => Unique.Room()).ToArray();
        var api = _cluster.Api(0);
        for (var i = 0; i < rooms.Length; i++)
        {
            await api.JoinAsync(new[] { onA[i % 2], onB[(i / 2) % 2] }, rooms[i]);
        }

        var (victim, lostRooms) = await SiloHoldingTheMostAsync(rooms);
        output.WriteLine($"killing {victim.SiloAddress}: it holds {lostRooms.Count} of the {Rooms} room grains");
        Assert.NotEmpty(lostRooms);
        await _cluster.Cluster.KillSiloAsync(victim);
        await _cluster.WhenDeclaredDeadAsync(victim.SiloAddress);
        await a.RenewAsync(TimeSpan.FromMinutes(5));
        await b.RenewAsync(TimeSpan.FromMinutes(5));

        var missed = new List<string>();
        foreach (var room in lostRooms)
        {
            var members = new[] { onA[Array.IndexOf(rooms, room) % 2], onB[(Array.IndexOf(rooms, room) / 2) % 2] };
            Assert.Equal(members.Order(), (await api.SubscribersAsync(room)).Order());
            await api.BroadcastAsync([room], "healing", room);
            foreach (var member in members)
            {
                var inbox = (a.SocketIds.Contains(member) ? a : b).InboxOf(member);
                if (inbox.Count("healing", $"\"{room}\"") != 1)
                {
                    missed.Add($"{member} in {room}");
                }
            }
        }

        Assert.Empty(missed);

        // Directory shards lost with the silo: their pages are completed by the front ends, so whole.
        Assert.Empty(rooms.Except((await api.RoomsAsync(limit: RoomPage.MaxLimit)).Rooms));

        // Once the front ends relist, the rooms are whole again from their grains alone.
        await a.RelistAllAsync();
        await b.RelistAllAsync();
        await Indexes.AssertAgreeAsync(_cluster.Cluster.Client, api, [.. onA, .. onB], rooms, a, b);
    }

    /// <summary>The secondary silo holding the most of these rooms' grains, and those rooms.</summary>
    private async Task<(SiloHandle Silo, List<string> Rooms)> SiloHoldingTheMostAsync(string[] rooms)
    {
        var activations = await _cluster.Cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        var byName = rooms.ToHashSet(StringComparer.Ordinal);

        var roomsBySilo = activations
            .Where(s => s.GrainType.StartsWith(typeof(RoomFrontEnds).Namespace + ".RoomGrain,", StringComparison.Ordinal) && byName.Contains(s.GrainId.Key.ToString()!))
            .GroupBy(s => s.SiloAddress)
            .ToDictionary(g => g.Key, g => g.Select(s => s.GrainId.Key.ToString()!).ToList());
        var victim = _cluster.Cluster.SecondarySilos.OrderByDescending(s => roomsBySilo.GetValueOrDefault(s.SiloAddress)?.Count ?? 0).First();
        return (victim, roomsBySilo.GetValueOrDefault(victim.SiloAddress) ?? []);
    }
}
