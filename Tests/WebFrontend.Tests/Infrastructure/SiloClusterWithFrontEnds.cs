using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;
using Orleans.TestingHost;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// The cluster shape in one test process: a three-silo Orleans test cluster of stand-alone silos (no front
/// end in them) and two real front ends that are Orleans clients of all its gateways. One per test: tests
/// kill and stop silos.
/// </summary>
public sealed class SiloClusterWithFrontEnds : IAsyncDisposable
{
    private SiloClusterWithFrontEnds(TestCluster cluster, FrontEndServer a, FrontEndServer b)
    {
        Cluster = cluster;
        A = a;
        B = b;
    }

    public TestCluster Cluster { get; }

    public FrontEndServer A { get; }

    public FrontEndServer B { get; }

    public IEnumerable<FrontEndServer> FrontEnds => [A, B];

    public static async Task<SiloClusterWithFrontEnds> StartAsync(int silos = 3)
    {
        var builder = new TestClusterBuilder((short)silos);
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket; // front ends connect over loopback TCP
        builder.Options.InitializeClientOnDeploy = false;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        var gateways = cluster.Silos.Select(s => s.GatewayAddress.Endpoint.Port).ToArray();
        var settings = new Dictionary<string, string?> { ["Orleans:ServiceId"] = cluster.Options.ServiceId };
        var a = await FrontEndServer.StartAsync(cluster.Options.ClusterId, gateways, settings: settings);
        var b = await FrontEndServer.StartAsync(cluster.Options.ClusterId, gateways, settings: settings);
        return new SiloClusterWithFrontEnds(cluster, a, b);
    }

    /// <summary>A silo other than the first (which holds the test cluster's membership table).</summary>
    public SiloHandle Victim => Cluster.Silos[1];

    /// <summary>When a surviving silo's view of the cluster no longer has <paramref name="silo"/> active.</summary>
    public async Task<DateTime> WhenNoticedAsync(SiloHandle silo, TimeSpan within)
    {
        var survivor = (InProcessSiloHandle)Cluster.Silos.First(s => s != silo && s.IsActive);
        var membership = survivor.SiloHost.Services.GetRequiredService<IClusterMembershipService>();
        await Eventually.HoldsAsync(
            () => Task.FromResult(membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress) != SiloStatus.Active),
            $"the cluster noticing that silo {silo.SiloAddress} is gone",
            within);
        return DateTime.UtcNow;
    }

    public async ValueTask DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.AddRoomGrains();
    }
}

/// <summary>
/// Checks that every index of the cluster says the same: each socket's grain, each room's grain, the front
/// ends' records (the source of truth) and the room listing; and, when given, that they match a model.
/// </summary>
public static class Invariants
{
    public static async Task<IReadOnlyList<string>> DifferencesAsync(IEnumerable<FrontEndServer> frontEnds, IReadOnlyDictionary<string, HashSet<string>>? expected = null)
    {
        var servers = frontEnds.ToArray();
        var api = servers[0].Services.GetRequiredService<IRoomService>();
        var problems = new List<string>();
        var records = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var server in servers)
        {
            var local = server.Services.GetRequiredService<FrontEndMembership>();
            foreach (var id in local.SocketIds())
            {
                if (local.RoomsOf(id) is { } record)
                {
                    records[id] = record;
                }
            }
        }

        var rooms = records.Values.SelectMany(r => r).Concat(expected?.Values.SelectMany(r => r) ?? []).ToHashSet(StringComparer.Ordinal);
        var byRoom = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var room in rooms)
        {
            foreach (var socket in await api.SubscribersAsync(room))
            {
                if (!byRoom.TryGetValue(socket, out var set))
                {
                    byRoom[socket] = set = new HashSet<string>(StringComparer.Ordinal);
                }

                set.Add(room);
            }
        }

        var listed = new HashSet<string>(StringComparer.Ordinal);
        for (string? after = null; ;)
        {
            var page = await api.RoomsAsync(after, RoomPage.MaxLimit);
            listed.UnionWith(page.Rooms);
            if (page.Next is null)
            {
                break;
            }

            after = page.Next;
        }

        foreach (var (socket, record) in records)
        {
            IReadOnlyList<string> grain;
            try
            {
                grain = await api.SocketRoomsAsync(socket);
            }
            catch (SocketNotFoundException)
            {
                problems.Add($"socket {socket} is held by a front end but unknown to the cluster");
                continue;
            }

            Compare(problems, $"socket {socket}: grain vs front-end record", grain, record);
            Compare(problems, $"socket {socket}: rooms listing it vs front-end record", byRoom.GetValueOrDefault(socket) ?? [], record);
            if (expected is not null && expected.TryGetValue(socket, out var model))
            {
                Compare(problems, $"socket {socket}: front-end record vs acknowledged changes", record, model);
            }
        }

        foreach (var socket in byRoom.Keys.Where(s => !records.ContainsKey(s)))
        {
            problems.Add($"socket {socket} is listed in rooms {string.Join(",", byRoom[socket])} but no front end holds it");
        }

        foreach (var room in rooms.Where(r => !records.ContainsKey(r)))
        {
            var hasMembers = byRoom.Values.Any(set => set.Contains(room));
            if (hasMembers != listed.Contains(room))
            {
                problems.Add($"room {room}: has members {hasMembers}, listed {listed.Contains(room)}");
            }
        }

        return problems;
    }

    private static void Compare(List<string> problems, string what, IEnumerable<string> actual, IEnumerable<string> expected)
    {
        var a = actual.Order(StringComparer.Ordinal).ToArray();
        var e = expected.Order(StringComparer.Ordinal).ToArray();
        if (!a.SequenceEqual(e))
        {
            problems.Add($"{what}: [{string.Join(",", a)}] vs [{string.Join(",", e)}]");
        }
    }
}
