using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Membership;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// SPEC guarantee 2: a silo that crashes or is stopped loses no acknowledged membership. Real front ends
/// (Orleans clients) hold real sockets; a load of joins and leaves runs while a silo goes; afterwards, and
/// within 10 s of the cluster noticing, every index agrees with what was acknowledged and broadcasts reach
/// every member.
/// </summary>
public sealed class SiloLossTests(ITestOutputHelper output)
{
    private const int SocketsPerFrontEnd = 6;
    private const int RoomCount = 12;
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan NoticeBound = TimeSpan.FromSeconds(90);
    private const int LoadBeforeFault = 200;
    private const int LoadAfterNotice = 200;

    [Fact]
    public async Task AKilledSiloUnderLoadLosesNoAcknowledgedMembershipAndAllIsBackWithinTenSecondsOfBeingNoticed()
    {
        var recovery = await RunAsync((cluster, victim) => cluster.KillSiloAsync(victim));
        Assert.True(recovery.Failed <= recovery.Operations, "counted");
    }

    [Fact]
    public async Task AGracefullyStoppedSiloUnderLoadLosesNothingAndFailsNoRequest()
    {
        var recovery = await RunAsync((cluster, victim) => cluster.StopSiloAsync(victim));
        Assert.Equal(0, recovery.Failed);
    }

    private async Task<(int Operations, int Failed)> RunAsync(Func<TestCluster, SiloHandle, Task> takeDown)
    {
        await using var env = await SiloClusterWithFrontEnds.StartAsync();
        var rooms = Enumerable.Range(0, RoomCount).Select(i => Unique.Room() + "-" + i).ToArray();
        var sockets = new List<(TestSocket Socket, FrontEndServer Server)>();
        var expected = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        try
        {
            foreach (var server in env.FrontEnds)
            {
                for (var i = 0; i < SocketsPerFrontEnd; i++)
                {
                    var socket = await server.ConnectAsync();
                    socket.Listen("probe");
                    sockets.Add((socket, server));
                    expected[socket.Id] = new HashSet<string>(StringComparer.Ordinal) { socket.Id };
                }
            }

            // Every socket starts in a few rooms, joined through the other front end (by id, like a kick).
            var random = new Random(7);
            foreach (var (socket, server) in sockets)
            {
                var other = env.FrontEnds.First(s => s != server).Services.GetRequiredService<IRoomService>();
                foreach (var room in rooms.OrderBy(_ => random.Next()).Take(4))
                {
                    await other.JoinAsync(socket.Id, room);
                    expected[socket.Id].Add(room);
                }
            }

            Assert.Empty(await Invariants.DifferencesAsync(env, expected));

            // Load: each socket joins and leaves rooms in turn by its own requests (the example routes) until
            // told to stop. A request that fails is repeated until it succeeds (changes are idempotent), so the
            // model stays exact.
            using var stop = new CancellationTokenSource();
            var operations = 0;
            var failed = 0;
            var milestones = new LoadMilestones();
            var load = sockets.Select((entry, index) => Task.Run(async () =>
            {
                var own = new Random(index);
                while (!stop.IsCancellationRequested)
                {
                    var room = rooms[own.Next(rooms.Length)];
                    var join = own.Next(2) == 0;
                    for (var attempt = 1; ; attempt++)
                    {
                        Interlocked.Increment(ref operations);
                        string problem;
                        try
                        {
                            var answer = await entry.Socket.RequestAsync("POST", join ? "/joinFunRoom" : "/leaveFunRoom", new { roomName = room });
                            if (answer.StatusCode == 200)
                            {
                                break;
                            }

                            problem = $"{answer.StatusCode} {answer.Error}";
                        }
                        catch (Exception ex) when (attempt < 50)
                        {
                            problem = $"{ex.GetType().Name}: {ex.Message}";
                        }

                        Assert.True(attempt < 50, $"{(join ? "join" : "leave")} of {room} kept failing: {problem}");
                        Interlocked.Increment(ref failed);
                        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {(join ? "join" : "leave")} {entry.Socket.Id} {room} failed (attempt {attempt}): {problem}");
                        await Task.Delay(200);
                    }

                    milestones.Acknowledged();
                    lock (expected)
                    {
                        if (join)
                        {
                            expected[entry.Socket.Id].Add(room);
                        }
                        else
                        {
                            expected[entry.Socket.Id].Remove(room);
                        }
                    }
                }
            })).ToArray();

            // The load is running (acknowledged changes on every socket's loop) before the silo goes.
            await milestones.AfterAsync(LoadBeforeFault);
            var victim = env.Cluster.Silos[1];
            var downAt = Stopwatch.StartNew();
            await takeDown(env.Cluster, victim);
            var noticedAt = await env.WhenNoticedAsync(victim, NoticeBound);
            output.WriteLine($"silo {victim.SiloAddress} taken down; noticed after {downAt.Elapsed.TotalSeconds:F1} s");

            // Keep the load on past the notice (changes acknowledged after it), then let it drain so the model is final.
            await milestones.AfterAsync(LoadAfterNotice);
            stop.Cancel();
            await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(60));

            IReadOnlyList<string> differences = [];
            await Eventually.HoldsAsync(
                async () => (differences = await Invariants.DifferencesAsync(env, expected)).Count == 0,
                "every index agreeing with the acknowledged memberships",
                RecoveryBound + TimeSpan.FromSeconds(30));
            var recovered = DateTime.UtcNow - noticedAt;
            output.WriteLine($"consistent {recovered.TotalSeconds:F1} s after the cluster noticed; {operations} calls, {failed} failed and were repeated");
            Assert.True(recovered <= RecoveryBound, $"recovery took {recovered.TotalSeconds:F1} s after the cluster noticed (bound {RecoveryBound.TotalSeconds} s)");

            // And broadcasts reach exactly the members again.
            var api = env.B.Services.GetRequiredService<IRoomService>();
            foreach (var room in rooms)
            {
                await api.BroadcastAsync([room], "probe", room);
            }

            foreach (var (socket, _) in sockets)
            {
                foreach (var room in expected[socket.Id].Where(rooms.Contains))
                {
                    await socket.WaitForAsync("probe", p => p.GetString() == room);
                }
            }

            return (operations, failed);
        }
        finally
        {
            foreach (var (socket, _) in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }
}

/// <summary>Counts acknowledged changes of the load and lets a test wait for the next so many of them.</summary>
internal sealed class LoadMilestones
{
    private readonly object _gate = new();
    private int _acknowledged;
    private (int At, TaskCompletionSource Done)? _waiter;

    public void Acknowledged()
    {
        lock (_gate)
        {
            _acknowledged++;
            if (_waiter is { } waiter && _acknowledged >= waiter.At)
            {
                waiter.Done.TrySetResult();
                _waiter = null;
            }
        }
    }

    /// <summary>Completes once <paramref name="count"/> more changes are acknowledged (bounded: the load may have stalled).</summary>
    public Task AfterAsync(int count)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _waiter = (_acknowledged + count, done);
        }

        return done.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }
}
