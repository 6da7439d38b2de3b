using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Membership;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// A socket's own front end records its own changes from the grain's answers, while changes asked for
/// through another front end reach it as notices from the grain. Mixed on the same sockets and rooms at
/// once, every index ends up agreeing exactly (SPEC guarantee 6): the record, the socket grain, the rooms.
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
                sockets.Add(await env.A.ConnectAsync());
            }

            var ids = sockets.Select(s => s.Id).ToArray();
            var rooms = Enumerable.Range(0, 3).Select(i => Unique.Room() + "-" + i).ToArray();
            var counts = new int[4];
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

                    counts[worker]++;
                }
            })).ToArray();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(2));

            Assert.All(counts, c => Assert.Equal(OperationsPerWorker, c));
            Assert.Empty(await Invariants.DifferencesAsync(env));

            // And the record is what the socket grain says, read through either front end.
            foreach (var id in ids)
            {
                Assert.Equal((await own.SocketRoomsAsync(id)).Order(StringComparer.Ordinal), (await remote.SocketRoomsAsync(id)).Order(StringComparer.Ordinal));
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
