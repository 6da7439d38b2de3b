using Orleans.Rooms.Membership;
using Orleans.Rooms.Tests.Infrastructure;

namespace Orleans.Rooms.Tests.Membership;

/// <summary>
/// Many callers on many silos at once: afterwards the socket index and the room index agree exactly,
/// nothing deadlocks, and where the order of operations per socket is known the result matches a model.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ConcurrencyTests(ClusterFixture fixture)
{
    private const int Callers = 8;
    private const int OperationsPerCaller = 400;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task RandomMixOnSharedSocketsAndRoomsLeavesBothIndexesAgreeing()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var sockets = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            sockets.Add(await frontEnd.ConnectAsync());
        }

        var rooms = Enumerable.Range(0, 10).Select(i => $"chaos-{Guid.NewGuid():N}"[..14] + i).ToArray();
        var connected = sockets.ToDictionary(s => s, _ => true);
        var unexpected = new List<Exception>();

        var callers = Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            var random = new Random(caller);
            var api = fixture.Api(caller);
            for (var op = 0; op < OperationsPerCaller; op++)
            {
                var socket = sockets[random.Next(sockets.Count)];
                var room = rooms[random.Next(rooms.Length)];
                var other = rooms[random.Next(rooms.Length)];
                try
                {
                    switch (random.Next(100))
                    {
                        case < 35: await api.JoinAsync(socket, room); break;
                        case < 60: await api.LeaveAsync(socket, room); break;
                        case < 68: await api.LeaveAllAsync(room, new LeaveAllOptions(IncludeSocketRooms: random.Next(4) == 0)); break;
                        case < 80: await api.AddRoomMembersToRoomsAsync(room, [other]); break;
                        case < 90: await api.RemoveRoomMembersFromRoomsAsync(room, [other]); break;
                        case < 95:
                            await frontEnd.DisconnectAsync(socket);
                            await frontEnd.ReconnectAsync(socket);
                            break;
                        default: await api.BroadcastAsync([room, other], "chaos", op); break;
                    }
                }
                catch (SocketNotFoundException)
                {
                    // Another caller had the socket disconnected at that moment: expected in this mix.
                }
                catch (InvalidOperationException ex) when (ex.Message.Contains("already connected"))
                {
                    // Two callers reconnecting the same socket at once: the second is refused, as it must be.
                }
                catch (Exception ex)
                {
                    lock (unexpected)
                    {
                        unexpected.Add(ex);
                    }
                }
            }
        })).ToArray();

        await Task.WhenAll(callers).WaitAsync(Bound);

        Assert.Empty(unexpected);

        // Read by a caller that took no part: one that found a socket gone while another caller had it disconnected
        // remembers that for FreshFor (3 s), and this mix brings the same id back on the same front end, unrecorded,
        // which the product never does (an id comes back only by a move, recorded in its socket grain, and then is
        // found at once: MembershipTests.ASocketFoundNowhereThatComesBackOnAnotherFrontEndIsFoundAtOnceNotAnsweredUnknown).
        await using var reader = fixture.NewApi(2);
        await Indexes.AssertAgreeAsync(fixture.Cluster.Client, reader.Api, sockets, rooms, frontEnd);
    }

    [Fact]
    public async Task ConcurrentCallersWithKnownPerSocketOrderMatchTheModel()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var shared = Enumerable.Range(0, 6).Select(i => $"shared-{Guid.NewGuid():N}"[..15] + i).ToArray();
        var allSockets = new List<string>();
        var allRooms = new List<string>(shared);
        var models = new Dictionary<string, HashSet<string>>[Callers];

        // Each caller owns its sockets and its private rooms; the shared rooms are contended by all.
        // Every operation a caller issues touches only its own sockets, so each socket's history is
        // sequential and known, while the grains see all callers at once.
        var owned = new (string[] Sockets, string[] Private)[Callers];
        for (var caller = 0; caller < Callers; caller++)
        {
            var mine = new string[3];
            for (var i = 0; i < mine.Length; i++)
            {
                mine[i] = await frontEnd.ConnectAsync();
            }

            var privateRooms = Enumerable.Range(0, 2).Select(i => $"own{caller}-{Guid.NewGuid():N}"[..15] + i).ToArray();
            owned[caller] = (mine, privateRooms);
            models[caller] = mine.ToDictionary(s => s, s => new HashSet<string> { s });
            allSockets.AddRange(mine);
            allRooms.AddRange(privateRooms);
        }

        var callers = Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            var random = new Random(100 + caller);
            var api = fixture.Api(caller);
            var (mine, privateRooms) = owned[caller];
            var model = models[caller];
            var myRooms = privateRooms.Concat(shared).ToArray();
            for (var op = 0; op < OperationsPerCaller; op++)
            {
                var socket = mine[random.Next(mine.Length)];
                var room = myRooms[random.Next(myRooms.Length)];
                var source = privateRooms[random.Next(privateRooms.Length)];
                var dest = myRooms[random.Next(myRooms.Length)];
                switch (random.Next(100))
                {
                    case < 40:
                        await api.JoinAsync(socket, room);
                        model[socket].Add(room);
                        break;
                    case < 65:
                        await api.LeaveAsync(socket, room);
                        model[socket].Remove(room);
                        break;
                    case < 72:
                        await api.LeaveAllAsync(source);
                        foreach (var member in MembersOf(model, source))
                        {
                            model[member].RemoveWhere(r => r != member);
                        }

                        break;
                    case < 84:
                        await api.AddRoomMembersToRoomsAsync(source, [dest]);
                        foreach (var member in MembersOf(model, source))
                        {
                            model[member].Add(dest);
                        }

                        break;
                    case < 94:
                        await api.RemoveRoomMembersFromRoomsAsync(source, [dest]);
                        foreach (var member in MembersOf(model, source))
                        {
                            model[member].Remove(dest);
                        }

                        break;
                    default:
                        await frontEnd.DisconnectAsync(socket);
                        await frontEnd.ReconnectAsync(socket);
                        model[socket] = [socket];
                        break;
                }
            }
        })).ToArray();

        await Task.WhenAll(callers).WaitAsync(Bound);

        var reader = fixture.Api(1);
        foreach (var model in models)
        {
            foreach (var (socket, expected) in model)
            {
                Assert.Equal(expected.Order(StringComparer.Ordinal), (await reader.SocketRoomsAsync(socket)).Order(StringComparer.Ordinal));
            }
        }

        await Indexes.AssertAgreeAsync(fixture.Cluster.Client, fixture.Api(2), allSockets, allRooms, frontEnd);
    }

    private static IEnumerable<string> MembersOf(Dictionary<string, HashSet<string>> model, string room)
        => model.Where(kv => kv.Value.Contains(room)).Select(kv => kv.Key).ToArray();
}
