using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Orleans.Rooms.Client;
using Orleans.Rooms.Cluster.Tests.Infrastructure;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.Cluster.Tests;

/// <summary>
/// A front end can go away without its users noticing (docs/design.md, "Moving a socket" and "Surviving a front
/// end"): 20 resumable sockets of the .NET client connect through the balancer (about half on each of two front
/// ends), each in one of four rooms, while a numbered event goes to the four rooms every 50 ms. Then one front end
/// is killed (<c>kill -9</c>), stopped (SIGTERM), or both are restarted one at a time (<c>restart-frontends</c>).
/// Every socket comes back as itself (same id, same rooms: resumed, never replaced) and its client gets every event
/// whose broadcast was answered 200, once each and in order; events whose broadcast failed may be missing, never
/// repeated or out of order. A plain client of a killed front end gets a new socket, as before.
/// </summary>
[Collection(nameof(ProcessFaultTests))]
public sealed class FrontEndContinuityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Sockets = 20;
    private static readonly string[] Rooms = ["c0", "c1", "c2", "c3"];
    private static readonly TimeSpan ResumeWithin = TimeSpan.FromSeconds(30);

    private readonly List<Watched> _clients = [];
    private ScriptedCluster? _cluster;

    [Fact]
    public async Task AKilledFrontEndsSocketsResumeOnTheOtherWithTheirIdsRoomsAndEveryEventAndAPlainClientGetsANewSocket()
    {
        var cluster = await StartClusterAsync();
        var victim = cluster.FrontEnds[1];
        RoomsClient? plain = null;
        var report = await RunAsync(cluster, survivor: cluster.FrontEnds[0], victim, async () =>
        {
            // A plain (not resumable) client too, on the victim, in a room.
            plain = await RoomsClient.ConnectAsync(victim.Url, new RoomsClientOptions { Resumable = false, ReconnectDelays = [TimeSpan.FromMilliseconds(100)] });
            (await plain.PostAsync("/joinFunRoom", new { roomName = "plain" })).EnsureSuccess();
            return await ScriptedCluster.KillAsync(victim.Process);
        });
        output.WriteLine($"kill -9 of a front end: {report}");

        // Its front end is gone and it connects to that address only: nothing to reconnect to. Through another
        // front end a plain socket is a new one, as it always was, and the old one is in no room.
        await using (plain)
        {
            await using var again = await RoomsClient.ConnectAsync(cluster.Lb.Url, new RoomsClientOptions { Resumable = false });
            Assert.NotEqual(plain!.SocketId, again.SocketId);
            Assert.Equal([again.SocketId!], (await again.GetAsync("/socketRooms")).EnsureSuccess().As<string[]>()!);
            await Eventually.UntilAsync(
                async () => (await again.GetAsync("/funRoomSubscribers?roomName=plain")).EnsureSuccess().As<string[]>()!.Length == 0,
                () => "the killed front end's plain socket out of its room",
                TimeSpan.FromSeconds(30),
                TimeSpan.FromMilliseconds(100));
        }
    }

    [Fact]
    public async Task AStoppedFrontEndsSocketsMoveToTheOtherWithTheirIdsRoomsAndEveryEvent()
    {
        var cluster = await StartClusterAsync();
        var victim = cluster.FrontEnds[1];
        long sent = 0;
        var report = await RunAsync(cluster, survivor: cluster.FrontEnds[0], victim, async () =>
        {
            sent = Stopwatch.GetTimestamp();
            await ScriptedCluster.TerminateAsync(victim.Process);
            return sent;
        });

        // It exits once its sockets have moved, well within its drain bound (Rooms:FrontEnd:DrainTimeout, 10 s).
        var exited = await Eventually.UntilAsync(() => Task.FromResult(!victim.Process.IsRunning()), () => "the stopped front end exiting", TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50));
        output.WriteLine($"SIGTERM of a front end: {report}; it exited {Stopwatch.GetElapsedTime(sent).TotalSeconds:F1} s after the SIGTERM");
    }

    [Fact]
    public async Task RestartingEveryFrontEndUnderLoadKeepsEverySocketAndEveryEvent()
    {
        var cluster = await StartClusterAsync();
        var report = await RunAsync(cluster, survivor: null, victim: null, async () =>
        {
            var at = Stopwatch.GetTimestamp();
            var (started, _, took) = await cluster.RestartFrontEndsAsync(new Dictionary<string, string> { ["ROOMS_CLUSTER_STOP_TIMEOUT"] = "20" });
            output.WriteLine($"restart-frontends took {took.TotalSeconds:F1} s; {started.Count} new front ends");
            return at;
        });
        output.WriteLine($"restart-frontends: {report}");
    }

    [Theory]
    [InlineData("SIGKILL")]
    [InlineData("SIGTERM")]
    public async Task RoomsJsSocketsOfAFrontEndThatGoesResumeOnTheOther(string signal)
    {
        var cluster = await StartClusterAsync(signal);
        await Node.EnsurePackagesAsync();
        var (survivor, victim) = (cluster.FrontEnds[0], cluster.FrontEnds[1]);
        var (exitCode, said) = await Node.RunAsync(
            "node",
            ["--test", "--test-reporter=spec", "test/continuity.test.mjs"],
            new Dictionary<string, string>
            {
                ["ROOMS_URL"] = cluster.Lb.Url.ToString(),
                ["ROOMS_SENDER_URL"] = survivor.Url.ToString(),
                ["ROOMS_VICTIM_URL"] = victim.Url.ToString(),
                ["ROOMS_VICTIM_PID"] = victim.Process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["ROOMS_SIGNAL"] = signal,
                ["ROOMS_SOCKETS"] = "10",
            },
            TimeSpan.FromSeconds(90));
        output.WriteLine(said);
        Assert.True(exitCode == 0, $"node --test test/continuity.test.mjs exited with {exitCode}:\n{said}");
        Assert.Contains("ℹ fail 0", said);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.Client.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.TearDownAsync();
        }
    }

    private async Task<ScriptedCluster> StartClusterAsync(string? variant = null, [CallerMemberName] string test = "")
    {
        _cluster = await ScriptedCluster.StartAsync($"{nameof(FrontEndContinuityTests)}/{test}{(variant is null ? "" : "-" + variant)}", silos: 2, frontEnds: 2, output.WriteLine);
        return _cluster;
    }

    /// <summary>
    /// Connects the sockets, runs the load, applies <paramref name="fault"/> (returning when it began), waits for every
    /// socket to be settled again, and judges every client. Returns a line of figures.
    /// </summary>
    private async Task<string> RunAsync(ScriptedCluster cluster, ScriptedCluster.FrontEndServer? survivor, ScriptedCluster.FrontEndServer? victim, Func<Task<long>> fault)
    {
        for (var i = 0; i < Sockets; i++)
        {
            _clients.Add(await Watched.ConnectAsync(cluster.Lb.Url, Rooms[i % Rooms.Length]));
        }

        // The sockets that must move: the victim's (about half, round robin), or all when every front end restarts.
        var mustMove = victim is null ? Sockets : await LoadBalancerTests.SocketsOnAsync(victim);
        Assert.True(mustMove is > 0 and < Sockets || victim is null, $"the victim holds {mustMove} of {Sockets} sockets");

        // Broadcasts go in through a front end that stays (or, while all are restarted, through the balancer):
        // only those answered 200 are owed to every member.
        using var http = new HttpClient { BaseAddress = survivor?.Url ?? cluster.Lb.Url, Timeout = TimeSpan.FromSeconds(10) };
        var acknowledged = new ConcurrentBag<int>();
        var failed = 0;
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            using var rate = new Rate(TimeSpan.FromMilliseconds(50)); // a numbered broadcast every 50 ms through the fault
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    using var response = await http.PostAsJsonAsync("/broadcastFunRoom", new { roomName = Rooms, eventName = "tick", data = new { i } });
                    if (response.IsSuccessStatusCode)
                    {
                        acknowledged.Add(i);
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failed);
                }

                if (!await rate.NextAsync(stop.Token))
                {
                    break;
                }
            }
        });

        await Eventually.UntilAsync(() => Task.FromResult(_clients.All(c => c.Ticks.Count >= 3)), () => "every socket hearing the load", TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));
        var began = await fault();
        await Eventually.UntilAsync(
            () => Task.FromResult(_clients.Count(c => c.ResumedSince(began)) >= mustMove && _clients.All(c => c.Client.IsConnected)),
            () => $"{mustMove} sockets resumed: {_clients.Count(c => c.ResumedSince(began))} did; not connected: {string.Join(", ", _clients.Where(c => !c.Client.IsConnected).Select(c => c.Id))}",
            ResumeWithin,
            TimeSpan.FromMilliseconds(50));
        // The load goes on with every socket back: 20 more broadcasts answered.
        var answeredAtResume = acknowledged.Count;
        await Eventually.UntilAsync(() => Task.FromResult(acknowledged.Count >= answeredAtResume + 20), () => $"20 more broadcasts answered after the resumes ({acknowledged.Count - answeredAtResume})", ResumeWithin, TimeSpan.FromMilliseconds(20));
        await stop.CancelAsync();
        await load;

        // A marker after everything: when a socket has it, it has everything before it that is owed to it.
        using var marker = await http.PostAsJsonAsync("/broadcastFunRoom", new { roomName = Rooms, eventName = "tick", data = new { i = int.MaxValue } });
        marker.EnsureSuccessStatusCode();
        await Eventually.UntilAsync(() => Task.FromResult(_clients.All(c => c.Ticks.Contains(int.MaxValue))), () => "every socket hearing the marker", TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));

        var owed = acknowledged.ToHashSet();
        var moved = _clients.Where(c => c.ResumedSince(began)).ToList();
        foreach (var client in _clients)
        {
            var ticks = client.Ticks.ToList();
            Assert.True(client.Replacements == 0, $"socket {client.Id} was replaced by a new one");
            Assert.Equal(client.Id, client.Client.SocketId);
            Assert.True(ticks.SequenceEqual(ticks.Order()) && ticks.Distinct().Count() == ticks.Count, $"socket {client.Id}: events repeated or out of order: {string.Join(",", ticks)}");
            var missing = owed.Where(i => i > client.FirstTick && !ticks.Contains(i)).Order().ToList();
            Assert.True(missing.Count == 0, $"socket {client.Id} missed {missing.Count} acknowledged events: {string.Join(",", missing.Take(20))}");
            var rooms = (await client.Client.GetAsync("/socketRooms")).EnsureSuccess().As<string[]>()!;
            Assert.Equal(new[] { client.Id, client.Room }.Order(StringComparer.Ordinal), rooms.Order(StringComparer.Ordinal));
        }

        Assert.True(moved.Count > 0, "no socket had to move");
        var times = moved.Select(c => Stopwatch.GetElapsedTime(began, c.FirstResumeSince(began)).TotalMilliseconds).Order().ToList();
        return $"{moved.Count} of {Sockets} sockets moved, all {Sockets} kept their ids and rooms; resumed {times[times.Count / 2]:F0} ms (median) and {times[^1]:F0} ms (worst) after the fault began; {owed.Count} broadcasts acknowledged and every one reached each socket once, in order ({failed} failed, and 0 events repeated)";
    }

    /// <summary>A resumable .NET client in one room, recording its events and its resumes.</summary>
    private sealed class Watched
    {
        private readonly ConcurrentQueue<int> _ticks = new();

        private Watched(RoomsClient client, string id, string room)
        {
            (Client, Id, Room) = (client, id, room);
        }

        public RoomsClient Client { get; }

        public string Id { get; }

        public string Room { get; }

        public IReadOnlyCollection<int> Ticks => _ticks;

        public int FirstTick { get; private set; } = -1;

        public List<long> Resumes { get; } = [];

        public bool ResumedSince(long at)
        {
            lock (Resumes)
            {
                return Resumes.Any(t => t > at);
            }
        }

        public long FirstResumeSince(long at)
        {
            lock (Resumes)
            {
                return Resumes.First(t => t > at);
            }
        }

        public int Replacements { get; private set; }

        public static async Task<Watched> ConnectAsync(Uri lb, string room)
        {
            var client = await RoomsClient.ConnectAsync(lb, new RoomsClientOptions { RequestTimeout = TimeSpan.FromSeconds(30) });
            var watched = new Watched(client, client.SocketId!, room);
            client.On<JsonElement>("tick", e =>
            {
                var i = e.GetProperty("i").GetInt32();
                if (watched.FirstTick < 0)
                {
                    watched.FirstTick = i;
                }

                watched._ticks.Enqueue(i);
            });
            client.Resumed += _ =>
            {
                lock (watched.Resumes)
                {
                    watched.Resumes.Add(Stopwatch.GetTimestamp());
                }

                return Task.CompletedTask;
            };
            client.Replaced += _ =>
            {
                watched.Replacements++;
                return Task.CompletedTask;
            };
            (await client.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();
            return watched;
        }
    }
}
