using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.FrontEnds;
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

    /// <summary>
    /// The grain factory of a live silo: the invariant checks read the grains through it, not through a front
    /// end whose own view they check.
    /// </summary>
    public IGrainFactory Grains => ((InProcessSiloHandle)Cluster.Silos.First(s => s.IsActive)).SiloHost.Services.GetRequiredService<IGrainFactory>();

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
/// Checks that every index of the cluster says the same, each read on its own: the front ends' records (the
/// source of truth, each read in its own process and again through its front-end grain, so that a front end the
/// cluster cannot reach counts as a failure, not as holding nothing), each held socket's grain (it names the
/// front end that holds it), each room's grain (it lists every front end with members in it), the room API as
/// a caller on the first front end reads it, and the room listing; and, when given, that the records match a model.
/// </summary>
public static class Invariants
{
    public static async Task<IReadOnlyList<string>> DifferencesAsync(SiloClusterWithFrontEnds env, IReadOnlyDictionary<string, HashSet<string>>? expected = null)
    {
        var servers = env.FrontEnds.ToArray();
        var grains = env.Grains;
        var api = servers[0].Services.GetRequiredService<IRoomService>();
        var problems = new List<string>();
        var records = new Dictionary<string, (string[] Rooms, FrontEndServer Holder)>(StringComparer.Ordinal);
        foreach (var server in servers)
        {
            var local = server.Services.GetRequiredService<FrontEndMembership>();
            foreach (var id in local.SocketIds())
            {
                if (local.RoomsOf(id) is not { } record)
                {
                    continue;
                }

                if (records.TryGetValue(id, out var other))
                {
                    problems.Add($"socket {id} is held by two front ends, {other.Holder.Id} and {server.Id}");
                }

                records[id] = (record, server);
            }
        }

        foreach (var (socket, (record, holder)) in records)
        {
            // What the other front ends hear from the holder: through its front-end grain, as they ask it.
            var answered = await grains.GetGrain<IFrontEndGrain>(holder.Id).GetSocketRooms(socket);
            if (answered is null)
            {
                problems.Add($"front end {holder.Id} holds socket {socket} but does not answer for it through its front-end grain (the cluster counts it as holding nothing)");
            }
            else
            {
                Compare(problems, $"socket {socket}: front end {holder.Id} through its grain vs its record", answered, record);
            }

            string? located;
            try
            {
                located = await grains.GetGrain<ISocketGrain>(socket).GetFrontEnd();
            }
            catch (SocketNotFoundException)
            {
                located = null;
            }

            // Recorded only once another front end looked for it (docs/design.md, "Locating a socket"): named by none, or its holder.
            if (located is not null && located != holder.Id)
            {
                problems.Add($"socket {socket}: its socket grain names {located}, but {holder.Id} holds it");
            }
        }

        var rooms = records.Values.SelectMany(r => r.Rooms).Concat(expected?.Values.SelectMany(r => r) ?? []).ToHashSet(StringComparer.Ordinal);
        foreach (var room in rooms)
        {
            // A socket's own-id room is listed only once another socket joins it (docs/design.md, "Locating a socket").
            var holding = records.Where(r => r.Key != room && r.Value.Rooms.Contains(room)).Select(r => r.Value.Holder.Id).ToHashSet(StringComparer.Ordinal);
            if (holding.Count == 0)
            {
                continue; // a room may list a front end for a moment after its last member left: nothing to require
            }

            var listed = await grains.GetGrain<IRoomGrain>(room).GetFrontEnds();
            foreach (var missing in holding.Where(id => !listed.FrontEnds.Contains(id)))
            {
                problems.Add($"room {room}: {missing} holds members, but the room grain lists [{string.Join(",", listed.FrontEnds)}] (complete {listed.Complete})");
            }
        }

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

        var listedRooms = new HashSet<string>(StringComparer.Ordinal);
        for (string? after = null; ;)
        {
            var page = await api.RoomsAsync(after, RoomPage.MaxLimit);
            listedRooms.UnionWith(page.Rooms);
            if (page.Next is null)
            {
                break;
            }

            after = page.Next;
        }

        foreach (var (socket, (record, _)) in records)
        {
            IReadOnlyList<string> read;
            try
            {
                read = await api.SocketRoomsAsync(socket);
            }
            catch (SocketNotFoundException)
            {
                problems.Add($"socket {socket} is held by a front end but the room API answers it is unknown");
                continue;
            }

            Compare(problems, $"socket {socket}: room API vs front-end record", read, record);
            Compare(problems, $"socket {socket}: rooms listing it vs front-end record", byRoom.GetValueOrDefault(socket) ?? [], record);
            if (expected is not null && expected.TryGetValue(socket, out var model))
            {
                Compare(problems, $"socket {socket}: front-end record vs acknowledged changes", record, model);
            }
        }

        if (expected is not null)
        {
            foreach (var socket in expected.Keys.Where(s => !records.ContainsKey(s)))
            {
                problems.Add($"socket {socket} has acknowledged memberships but no front end holds it");
            }
        }

        foreach (var socket in byRoom.Keys.Where(s => !records.ContainsKey(s)))
        {
            problems.Add($"socket {socket} is listed in rooms {string.Join(",", byRoom[socket])} but no front end holds it");
        }

        foreach (var room in rooms.Where(r => !records.ContainsKey(r)))
        {
            var hasMembers = byRoom.Values.Any(set => set.Contains(room));
            if (hasMembers != listedRooms.Contains(room))
            {
                problems.Add($"room {room}: has members {hasMembers}, listed {listedRooms.Contains(room)}");
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
