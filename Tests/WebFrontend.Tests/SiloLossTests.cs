using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Membership;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Orleans.Runtime;
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

    /// <summary>The service's answer to a call it could not complete for now (RoomErrorsFilter): the one retryable failure.</summary>
    private const string RetryableAnswer = "500 The room service could not complete this call; try again.";

    private sealed record Recovery(int Operations, int Failed, IReadOnlyList<string> Retryable, IReadOnlyList<string> Unretryable, IReadOnlyList<string> Late);

    [Fact]
    public async Task AKilledSiloUnderLoadLosesNoAcknowledgedMembershipAndAllIsBackWithinTenSecondsOfBeingNoticed()
    {
        var recovery = await RunAsync((cluster, victim) => cluster.KillSiloAsync(victim));

        // A kill may fail requests that met the dead silo before the cluster declared it dead: each must be the
        // service's "try again" answer (and the load repeats it), none may come after the recovery bound.
        Assert.True(recovery.Unretryable.Count == 0, $"{recovery.Unretryable.Count} of {recovery.Failed} failed requests were not the retryable 500:\n{string.Join("\n", recovery.Unretryable.Take(10))}");
        Assert.True(recovery.Late.Count == 0, $"{recovery.Late.Count} requests failed more than {RecoveryBound.TotalSeconds} s after the cluster noticed the kill:\n{string.Join("\n", recovery.Late.Take(10))}");
    }

    [Fact]
    public async Task AGracefullyStoppedSiloUnderLoadLosesNothingAndFailsNoRequest()
    {
        var recovery = await RunAsync((cluster, victim) => cluster.StopSiloAsync(victim));
        Assert.True(recovery.Failed == 0, $"{recovery.Failed} requests failed:\n{string.Join("\n", recovery.Unretryable.Concat(recovery.Retryable).Take(10))}");
    }

    private async Task<Recovery> RunAsync(Func<TestCluster, SiloHandle, Task> takeDown)
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
            var failures = new ConcurrentQueue<(DateTime At, string Problem, bool Retryable)>();
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
                        failures.Enqueue((DateTime.UtcNow, $"{DateTime.UtcNow:HH:mm:ss.fff} {(join ? "join" : "leave")} {entry.Socket.Id} {room}: {problem}", problem == RetryableAnswer));
                        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {(join ? "join" : "leave")} {entry.Socket.Id} {room} failed (attempt {attempt}): {problem}");
                        // A client's back-off before it retries a request the healing cluster failed.
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
            var victim = await SiloHoldingTheMostAsync(env, rooms, sockets.Select(s => s.Socket.Id));
            var downAt = Stopwatch.StartNew();
            await takeDown(env.Cluster, victim);
            var noticedAt = await env.WhenNoticedAsync(victim, NoticeBound);
            output.WriteLine($"silo {victim.SiloAddress} taken down; noticed after {downAt.Elapsed.TotalSeconds:F1} s");

            // Keep the load on past the notice (changes acknowledged after it), then let it drain so the model is final.
            await milestones.AfterAsync(LoadAfterNotice);
            stop.Cancel();
            await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(60));

            // What still disagrees is printed each time it changes: the figures say which index lagged, and for how long.
            IReadOnlyList<string> differences = [];
            var lastShown = "";
            await Eventually.UntilAsync(
                async () =>
                {
                    differences = await Invariants.DifferencesAsync(env, expected);
                    var shown = differences.Count == 0 ? "" : $"{differences.Count} differences, e.g. {differences[0]}";
                    if (shown.Length > 0 && shown != lastShown)
                    {
                        output.WriteLine($"  {(DateTime.UtcNow - noticedAt).TotalSeconds:F1} s after the notice: {shown}");
                    }

                    lastShown = shown;
                    return differences.Count == 0;
                },
                () => $"every index agreeing with the acknowledged memberships; still:\n{string.Join("\n", differences.Take(20))}",
                RecoveryBound + TimeSpan.FromSeconds(30),
                Eventually.DefaultEvery);
            var recovered = DateTime.UtcNow - noticedAt;
            output.WriteLine($"consistent {recovered.TotalSeconds:F1} s after the cluster noticed; {operations} calls, {failed} failed and were repeated");
            Assert.True(recovered <= RecoveryBound, $"recovery took {recovered.TotalSeconds:F1} s after the cluster noticed (bound {RecoveryBound.TotalSeconds} s)");

            // And broadcasts reach exactly the members again: each member gets its rooms' probes once, and a
            // marker sent to each socket afterwards on the same path (so it arrives after any stray probe would
            // have) shows that no socket got a probe of a room it is not in.
            var api = env.B.Services.GetRequiredService<IRoomService>();
            foreach (var room in rooms)
            {
                await api.BroadcastAsync([room], "probe", room);
            }

            foreach (var (socket, _) in sockets)
            {
                await api.BroadcastAsync([socket.Id], "marker", "after-probes");
            }

            var wrong = new List<string>();
            foreach (var (socket, _) in sockets)
            {
                await socket.WaitForMarkerAsync("after-probes");
                var got = socket.ReceivedOf("probe").Select(p => p.GetString()!).Order(StringComparer.Ordinal).ToArray();
                var want = expected[socket.Id].Where(rooms.Contains).Order(StringComparer.Ordinal).ToArray();
                if (!got.SequenceEqual(want))
                {
                    wrong.Add($"{socket.Id}: got probes [{string.Join(",", got)}], member of [{string.Join(",", want)}]");
                }
            }

            Assert.True(wrong.Count == 0, $"broadcasts did not reach exactly the members:\n{string.Join("\n", wrong)}");

            var late = noticedAt + RecoveryBound;
            output.WriteLine($"failed requests: {failures.Count(f => f.Retryable)} retryable, {failures.Count(f => !f.Retryable)} other, {failures.Count(f => f.At > late)} after the recovery bound");
            return new Recovery(
                operations,
                failed,
                [.. failures.Where(f => f.Retryable).Select(f => f.Problem)],
                [.. failures.Where(f => !f.Retryable).Select(f => f.Problem)],
                [.. failures.Where(f => f.At > late).Select(f => f.Problem)]);
        }
        finally
        {
            foreach (var (socket, _) in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The secondary silo (the first holds the test cluster's membership table) holding the most of this test's
    /// room and socket grains, which must be some: a silo that held none would prove nothing.
    /// </summary>
    private async Task<SiloHandle> SiloHoldingTheMostAsync(SiloClusterWithFrontEnds env, string[] rooms, IEnumerable<string> sockets)
    {
        var ours = rooms.Concat(sockets).ToHashSet(StringComparer.Ordinal);
        var activations = await env.Grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        var held = activations
            .Where(a => (a.GrainType.StartsWith(MembershipGrain("RoomGrain"), StringComparison.Ordinal) || a.GrainType.StartsWith(MembershipGrain("SocketGrain"), StringComparison.Ordinal))
                && ours.Contains(a.GrainId.Key.ToString()!))
            .GroupBy(a => a.SiloAddress)
            .ToDictionary(g => g.Key, g => (Rooms: g.Count(a => a.GrainType.StartsWith(MembershipGrain("RoomGrain"), StringComparison.Ordinal)), Sockets: g.Count(a => a.GrainType.StartsWith(MembershipGrain("SocketGrain"), StringComparison.Ordinal))));
        var victim = env.Cluster.SecondarySilos.MaxBy(s => held.TryGetValue(s.SiloAddress, out var h) ? h.Rooms + h.Sockets : 0)!;
        var (roomGrains, socketGrains) = held.GetValueOrDefault(victim.SiloAddress);
        output.WriteLine($"taking down {victim.SiloAddress}: it holds {roomGrains} room and {socketGrains} socket grains of this test ({string.Join("; ", held.Select(h => $"{h.Key}: {h.Value.Rooms} rooms, {h.Value.Sockets} sockets"))})");
        Assert.True(roomGrains + socketGrains > 0, "no secondary silo holds a room or socket grain of this test: taking one down would prove nothing");
        return victim;

        static string MembershipGrain(string name) => $"{typeof(RoomFrontEnds).Namespace}.{name},";
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
