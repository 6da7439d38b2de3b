using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Membership;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// A socket's own front end records its own changes from the grain's answers, while changes asked for
/// through another front end reach it as notices from the grain. Mixed on the same sockets and rooms at
/// once, every index ends up agreeing exactly (SPEC guarantee 6): the record, the socket grain, the room grains;
/// and a known end state made of both kinds of change afterwards is what the records, the grains and the
/// connections' deliveries all show.
/// </summary>
public sealed class OwnAndRemoteChangesTests
{
    private const int OperationsPerWorker = 150;

    [Fact]
    public async Task ConcurrentOwnAndRemoteChangesOfTheSameSocketsAndRoomsEndWithEveryIndexAgreeing()
    {
        await using var env = await SiloClusterWithFrontEnds.StartAsync(silos: 2);
        var own = env.A.Services.GetRequiredService<IRoomService>();
        var remote = env.B.Services.GetRequiredService<IRoomService>();
        var sockets = new List<TestSocket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var socket = await env.A.ConnectAsync();
                socket.Listen("probe");
                sockets.Add(socket);
            }

            var ids = sockets.Select(s => s.Id).ToArray();
            var rooms = Enumerable.Range(0, 3).Select(i => Unique.Room() + "-" + i).ToArray();
            var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
            {
                var api = worker % 2 == 0 ? own : remote;
                var random = new Random(worker);
                for (var n = 0; n < OperationsPerWorker; n++)
                {
                    var socket = ids[random.Next(ids.Length)];
                    var room = rooms[random.Next(rooms.Length)];
                    switch (random.Next(10))
                    {
                        case < 5:
                            await api.JoinAsync(socket, room);
                            break;
                        case < 9:
                            await api.LeaveAsync(socket, room);
                            break;
                        default:
                            await api.LeaveAllAsync(room);
                            break;
                    }
                }
            })).ToArray();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(2));

            // The mix has no single order to model, so after it every index must agree with the records.
            var afterMix = await Invariants.DifferencesAsync(env);
            Assert.True(afterMix.Count == 0, "after the mix:\n" + string.Join("\n", afterMix));

            // Then a known end state over the mixed state, half by own and half by remote changes: the records
            // must be exactly what these acknowledged calls make, and every index must say so.
            foreach (var room in rooms)
            {
                await remote.LeaveAllAsync(room);
            }

            var expected = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            for (var k = 0; k < ids.Length; k++)
            {
                await own.JoinAsync(ids[k], rooms[k % rooms.Length]);
                await remote.JoinAsync(ids[k], rooms[(k + 1) % rooms.Length]);
                expected[ids[k]] = new HashSet<string>(StringComparer.Ordinal) { ids[k], rooms[k % rooms.Length], rooms[(k + 1) % rooms.Length] };
            }

            var atEnd = await Invariants.DifferencesAsync(env, expected);
            Assert.True(atEnd.Count == 0, "at the known end state:\n" + string.Join("\n", atEnd));

            // And the connections themselves: a broadcast to each room through the remote front end reaches
            // exactly its members (a marker to each socket afterwards, on the same path, bounds the wait for strays).
            foreach (var room in rooms)
            {
                await remote.BroadcastAsync([room], "probe", room);
            }

            foreach (var id in ids)
            {
                await remote.BroadcastAsync([id], "marker", "after-probes");
            }

            foreach (var socket in sockets)
            {
                await socket.WaitForMarkerAsync("after-probes");
                Assert.Equal(
                    expected[socket.Id].Where(rooms.Contains).Order(StringComparer.Ordinal),
                    socket.ReceivedOf("probe").Select(p => p.GetString()!).Order(StringComparer.Ordinal));
            }
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }
}
