using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Orleans.Rooms.Cluster.Tests.Infrastructure;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.Cluster.Tests;

/// <summary>
/// The load balancer of the cluster shape (HAProxy, started by <c>scripts/cluster up</c>): the project's clients
/// connect through it to every front end (SignalR's negotiate and connect pinned to one front end by the connection
/// token), <c>add-frontend</c> puts a front end in without dropping a connection, a killed front end leaves it within
/// a bound, and <c>restart-frontends</c> replaces every front end while new connections keep succeeding. Each test has
/// a cluster of its own (one silo, two front ends); they run with the other fault tests, alone.
/// </summary>
[Collection(nameof(ProcessFaultTests))]
public sealed partial class LoadBalancerTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>
    /// How long a killed front end may still be in the balancer: two failed checks a second apart
    /// (deploy/haproxy/haproxy.cfg: inter 1s fall 2), plus a check's own time and a second of slack for this machine.
    /// </summary>
    private static readonly TimeSpan KilledOutWithin = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan SettleWithin = TimeSpan.FromSeconds(30);

    private readonly List<ClusterSocket> _sockets = [];
    private ScriptedCluster? _cluster;

    [Fact]
    public async Task FortyDotNetClientsAndTwentyRoomsJsSocketsThroughTheBalancerAllConnectJoinAndHearABroadcast()
    {
        var cluster = await StartClusterAsync();
        var room = NewRoom();

        // Plain and resumable sockets, all connecting at once: each negotiates on one front end (round robin) and
        // must connect to that same one, which only the stick table on the connection token makes happen.
        var sockets = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => ConnectAsync(cluster.Lb.Url, resumable: i % 2 == 1)));
        await Task.WhenAll(sockets.Select(async s => Ok(await s.RequestAsync("POST", "/joinFunRoom", new { roomName = room }))));
        Ok(await sockets[0].RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "news", data = "through-the-lb" }));
        await Task.WhenAll(sockets.Select(s => s.WaitForAsync("news", "through-the-lb")));

        var perFrontEnd = await SocketsPerFrontEndAsync(cluster.FrontEnds);
        output.WriteLine($"40 of 40 connected through the balancer, joined and heard the broadcast; sockets per front end: {string.Join(", ", perFrontEnd)}.");
        Assert.Equal(40, perFrontEnd.Sum());
        Assert.All(perFrontEnd, count => Assert.True(count > 0, $"a front end got no socket: {string.Join(", ", perFrontEnd)}"));

        // rooms.js in Node, through the same balancer (its own rooms).
        await Node.EnsurePackagesAsync();
        var (exitCode, said) = await Node.RunAsync(
            "node",
            ["--test", "--test-reporter=spec", "test/balancer.test.mjs"],
            new Dictionary<string, string> { ["ROOMS_URL"] = cluster.Lb.Url.ToString(), ["ROOMS_SOCKETS"] = "20" },
            TimeSpan.FromSeconds(60));
        output.WriteLine(said);
        Assert.True(exitCode == 0, $"node --test test/balancer.test.mjs exited with {exitCode}:\n{said}");
        Assert.Contains("ℹ fail 0", said);
    }

    [Fact]
    public async Task AddFrontEndUnderLoadDropsNoConnectionAndNewConnectionsReachIt()
    {
        var cluster = await StartClusterAsync();
        var room = NewRoom();
        var sockets = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => ConnectAsync(cluster.Lb.Url, resumable: i % 2 == 1)));
        await Task.WhenAll(sockets.Select(async s => Ok(await s.RequestAsync("POST", "/joinFunRoom", new { roomName = room }))));

        // Load while the front end goes in: a broadcast to every socket every 50 ms, and new sockets connecting.
        using var stop = new CancellationTokenSource();
        var (broadcast, connected) = (new StrongBox<int>(), new StrongBox<int>());
        var broadcasts = BroadcastUntilAsync(sockets[0], room, stop.Token, broadcast);
        var connects = ConnectUntilAsync(cluster.Lb.Url, stop.Token, connected);
        var (added, took) = await cluster.AddFrontEndAsync();

        // The load goes on with the new front end in: 20 more broadcasts and 20 more connections.
        var (broadcastBefore, connectedBefore) = (Volatile.Read(ref broadcast.Value), Volatile.Read(ref connected.Value));
        await Eventually.UntilAsync(
            () => Task.FromResult(Volatile.Read(ref broadcast.Value) >= broadcastBefore + 20 && Volatile.Read(ref connected.Value) >= connectedBefore + 20),
            () => $"20 more broadcasts and connections with the new front end in ({broadcast.Value - broadcastBefore}, {connected.Value - connectedBefore})",
            SettleWithin,
            TimeSpan.FromMilliseconds(20));
        await stop.CancelAsync();
        var (sent, (connectedAll, failures)) = (await broadcasts, await connects);
        output.WriteLine($"add-frontend took {took.TotalSeconds:F1} s under load: {sent} broadcasts, {connectedAll} new connections meanwhile, {failures.Count} failed.");
        Assert.True(failures.Count == 0, $"connections failed while add-frontend ran:\n{string.Join('\n', failures)}");

        // Every socket is still the one it was, and hears a marker sent after all of it.
        Ok(await sockets[0].RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "marker", data = "after-add" }));
        await Task.WhenAll(sockets.Select(s => s.WaitForAsync("marker", "after-add")));
        Assert.All(sockets, s => Assert.True(s.Disconnects == 0, $"socket {s.Id} lost its connection {s.Disconnects} times"));
        var status = Assert.Single(await cluster.StatusAsync(), s => s.Pid == added.Process.Pid);
        Assert.Equal("UP", status.Detail("lb"));

        // New sockets are spread over three front ends now, the new one included.
        var before = await SocketsOnAsync(added);
        var fresh = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => ConnectAsync(cluster.Lb.Url, resumable: false)));
        var onNew = await SocketsOnAsync(added) - before;
        output.WriteLine($"{fresh.Length} new sockets after add-frontend: {onNew} on the new front end; per front end: {string.Join(", ", await SocketsPerFrontEndAsync(cluster.FrontEnds))}.");
        Assert.True(onNew > 0, "no new socket reached the front end add-frontend started");
    }

    [Fact]
    public async Task AKilledFrontEndIsOutOfTheBalancerWithinThreeSecondsAndEveryNewConnectionSucceeds()
    {
        var cluster = await StartClusterAsync();
        var (survivor, victim) = (cluster.FrontEnds[0], cluster.FrontEnds[1]);

        using var stop = new CancellationTokenSource();
        var progress = new StrongBox<int>();
        var connects = ConnectUntilAsync(cluster.Lb.Url, stop.Token, progress);
        await Eventually.UntilAsync(() => Task.FromResult(Volatile.Read(ref progress.Value) >= 10), () => "10 connections through the balancer before the kill", SettleWithin, TimeSpan.FromMilliseconds(20));
        var victimName = (await StatusOfAsync(cluster, victim)).Name;
        Assert.Equal("UP", await cluster.BalancerStatusAsync(victimName));
        var killed = await ScriptedCluster.KillAsync(victim.Process);
        await Eventually.UntilAsync(
            async () => await cluster.BalancerStatusAsync(victimName) == "DOWN",
            () => $"the balancer taking {victim.Process} out after kill -9",
            SettleWithin,
            TimeSpan.FromMilliseconds(20));
        var downAfter = Stopwatch.GetElapsedTime(killed);
        Assert.Equal("DOWN", (await StatusOfAsync(cluster, victim)).Detail("lb"));
        var connectedAtDown = Volatile.Read(ref progress.Value);
        await Eventually.UntilAsync(() => Task.FromResult(Volatile.Read(ref progress.Value) >= connectedAtDown + 20), () => "20 more connections with the killed front end out", SettleWithin, TimeSpan.FromMilliseconds(20));
        await stop.CancelAsync();
        var (connected, failures) = await connects;

        // Out of the balancer: new sockets all reach the survivor.
        var onSurvivor = await SocketsOnAsync(survivor);
        var fresh = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => ConnectAsync(cluster.Lb.Url, resumable: false)));
        var newOnSurvivor = await SocketsOnAsync(survivor) - onSurvivor;

        // A socket on the victim when it was killed dies with it (it was not a new connection); every connect begun
        // after the kill must succeed, the ones the balancer still sent to the victim's closed port included.
        var (inFlight, afterKill) = (failures.Where(f => f.Began < killed).ToList(), failures.Where(f => f.Began >= killed).ToList());
        output.WriteLine($"kill -9 {victim.Process}: the balancer said DOWN {downAfter.TotalSeconds:F2} s after the kill; {connected} connections through the balancer meanwhile; {afterKill.Count} begun after the kill failed, {inFlight.Count} on the victim at the kill died with it{string.Concat(inFlight.Select(f => $" ({f})"))}; then {newOnSurvivor} of {fresh.Length} new sockets on the survivor.");
        Assert.True(downAfter <= KilledOutWithin, $"the killed front end was still in the balancer {downAfter.TotalSeconds:F2} s after the kill (bound {KilledOutWithin.TotalSeconds} s)");
        Assert.True(afterKill.Count == 0, $"connections begun after the kill failed:\n{string.Join('\n', afterKill)}");
        Assert.True(inFlight.Count <= 1, $"more connections failed than the one in flight at the kill:\n{string.Join('\n', inFlight)}");
        Assert.Equal(fresh.Length, newOnSurvivor);
    }

    [Fact]
    public async Task RestartFrontEndsReplacesEveryFrontEndWhileEveryNewConnectionSucceeds()
    {
        var cluster = await StartClusterAsync();
        var old = cluster.FrontEnds.ToList();

        using var stop = new CancellationTokenSource();
        var connects = ConnectUntilAsync(cluster.Lb.Url, stop.Token);
        var (started, stopped, took) = await cluster.RestartFrontEndsAsync(new Dictionary<string, string> { ["ROOMS_CLUSTER_STOP_TIMEOUT"] = "20" });
        await stop.CancelAsync();
        var (connected, failures) = await connects;
        output.WriteLine($"restart-frontends took {took.TotalSeconds:F1} s; {connected} connections through the balancer meanwhile, {failures.Count} failed.");
        Assert.True(failures.Count == 0, $"connections failed while restart-frontends ran:\n{string.Join('\n', failures)}");

        // As many front ends as before, each a new process, each up in the balancer; the old ones are gone.
        Assert.Equal(old.Count, started.Count);
        Assert.Equal(old.Select(f => f.Process.Pid).Order(), stopped.Order());
        Assert.All(old, f => Assert.False(f.Process.IsRunning(), $"{f.Process} still runs after restart-frontends"));
        var status = await cluster.StatusAsync();
        output.WriteLine(string.Join('\n', status.Select(s => s.Text)));
        var frontEnds = status.Where(s => s.Kind == "frontend").ToList();
        Assert.Equal(started.Select(f => f.Process.Pid).Order(), frontEnds.Select(s => s.Pid).Order());
        Assert.All(frontEnds, s => Assert.True(s.State == "running" && s.Detail("lb") == "UP", $"after restart-frontends: {s.Text}"));
        Assert.Equal($"{old.Count}", Assert.Single(status, s => s.Kind == "lb").Detail("servers-up"));

        // And the new ones share the new sockets.
        var fresh = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => ConnectAsync(cluster.Lb.Url, resumable: false)));
        var perFrontEnd = await SocketsPerFrontEndAsync(started);
        output.WriteLine($"{fresh.Length} new sockets afterwards, per new front end: {string.Join(", ", perFrontEnd)}.");
        Assert.All(perFrontEnd, count => Assert.True(count > 0, $"a new front end got no socket: {string.Join(", ", perFrontEnd)}"));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var socket in _sockets)
        {
            await socket.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.TearDownAsync();
        }
    }

    private async Task<ScriptedCluster> StartClusterAsync([CallerMemberName] string test = "")
    {
        _cluster = await ScriptedCluster.StartAsync($"{nameof(LoadBalancerTests)}/{test}", silos: 1, frontEnds: 2, output.WriteLine);
        return _cluster;
    }

    private async Task<ClusterSocket> ConnectAsync(Uri lb, bool resumable)
    {
        var socket = await ClusterSocket.ConnectAsync(lb, resumable, "news");
        lock (_sockets)
        {
            _sockets.Add(socket);
        }

        return socket;
    }

    /// <summary>
    /// New sockets through the balancer, one after another until <paramref name="stop"/>, plain and resumable by turns:
    /// each connects, asks for its id (a request its front end answers) and disconnects. Returns how many did, and
    /// what went wrong with each that did not, and when that one had begun.
    /// </summary>
    private static async Task<(int Connected, List<Failure> Failures)> ConnectUntilAsync(Uri lb, CancellationToken stop, StrongBox<int>? progress = null)
    {
        var (connected, failures, began) = (0, new List<Failure>(), Stopwatch.GetTimestamp());
        while (!stop.IsCancellationRequested)
        {
            var attempt = Stopwatch.GetTimestamp();
            try
            {
                await using var socket = await ClusterSocket.ConnectAsync(lb, resumable: connected % 2 == 1);
                var id = await socket.RequestAsync("GET", "/socketId");
                if (id.StatusCode != 200 || id.Body.GetString() != socket.Id)
                {
                    throw new InvalidOperationException($"GET /socketId answered {id}");
                }

                connected++;
                if (progress is not null)
                {
                    Interlocked.Increment(ref progress.Value);
                }
            }
            catch (Exception ex)
            {
                failures.Add(new Failure(attempt, $"begun at {Stopwatch.GetElapsedTime(began, attempt).TotalSeconds:F2} s, failed at {Stopwatch.GetElapsedTime(began).TotalSeconds:F2} s: {ex.GetType().Name}: {ex.Message}"));
            }
        }

        return (connected, failures);
    }

    private static async Task<int> BroadcastUntilAsync(ClusterSocket sender, string room, CancellationToken stop, StrongBox<int> progress)
    {
        var sent = 0;
        using var rate = new Rate(TimeSpan.FromMilliseconds(50)); // 20 broadcasts a second through the restarts
        while (!stop.IsCancellationRequested)
        {
            Ok(await sender.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "news", data = $"load-{sent}" }));
            sent++;
            Interlocked.Increment(ref progress.Value);
            if (!await rate.NextAsync(stop))
            {
                break;
            }
        }

        return sent;
    }

    private static async Task<ScriptedCluster.StatusLine> StatusOfAsync(ScriptedCluster cluster, ScriptedCluster.FrontEndServer frontEnd)
        => Assert.Single(await cluster.StatusAsync(), s => s.Pid == frontEnd.Process.Pid);

    private static async Task<int[]> SocketsPerFrontEndAsync(IEnumerable<ScriptedCluster.FrontEndServer> frontEnds)
        => await Task.WhenAll(frontEnds.Where(f => f.Process.IsRunning()).Select(SocketsOnAsync));

    /// <summary>The sockets connected to one front end, from its <c>/metrics</c> (<c>rooms_sockets_connected</c>).</summary>
    internal static async Task<int> SocketsOnAsync(ScriptedCluster.FrontEndServer frontEnd)
    {
        var answer = await BoundedHttp.GetAsync(frontEnd.Url, "/metrics", TimeSpan.FromSeconds(5));
        Assert.True(answer.IsOk, answer.ToString());
        var match = SocketsConnected().Match(answer.Body.GetString()!);
        Assert.True(match.Success, $"{frontEnd.Url}metrics has no rooms_sockets_connected");
        return int.Parse(match.Groups[1].Value);
    }

    /// <param name="Began">When the attempt began (<see cref="Stopwatch.GetTimestamp"/>).</param>
    private sealed record Failure(long Began, string What)
    {
        public override string ToString() => What;
    }

    private static string NewRoom() => "lb-" + Guid.NewGuid().ToString("N")[..8];

    private static ClusterSocket.Reply Ok(ClusterSocket.Reply reply)
        => reply.StatusCode == 200 ? reply : throw new InvalidOperationException($"Expected 200, got {reply}");

    [GeneratedRegex(@"^rooms_sockets_connected(?:\{[^}]*\})? (\d+)", RegexOptions.Multiline)]
    private static partial Regex SocketsConnected();
}
