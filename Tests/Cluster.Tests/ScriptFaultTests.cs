using System.Diagnostics;
using System.Runtime.CompilerServices;
using Orleans.Rooms.Cluster.Tests.Infrastructure;
using Orleans.Rooms.Hosting;
using Xunit.Abstractions;

namespace Orleans.Rooms.Cluster.Tests;

/// <summary>
/// <c>scripts/cluster</c> itself under faults: <c>add-silo</c> right after a silo is sent SIGTERM or is killed,
/// <c>status</c> telling stopping and dead processes from running ones, <c>down</c> leaving no process after any
/// of it; and the membership-table guard writing nothing into a healthy table. Each test damages its cluster, so
/// each has a small one of its own (a fixture's would not survive it); they run with the other fault tests, alone.
/// </summary>
[Collection(nameof(ProcessFaultTests))]
public sealed class ScriptFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>add-silo's own bound on the new silo being Active among the others (ROOMS_CLUSTER_TIMEOUT).</summary>
    private static readonly TimeSpan AddSiloWithin = TimeSpan.FromSeconds(60);

    /// <summary>A state the cluster reaches with no event to wait on (a view, a process exiting after SIGTERM).</summary>
    private static readonly TimeSpan SettleWithin = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The guard checks every 50 ms instead of every second: twenty times the chances to catch a table that looks
    /// behind while silos join and leave. That a silo runs with it is in its log (<see cref="AssertNoGuardWrite"/>).
    /// </summary>
    private static readonly Dictionary<string, string> FastGuard = new() { ["Orleans__MembershipTableGuard__CheckPeriod"] = "00:00:00.050" };

    /// <summary>Log lines of the guard that mean it wrote (or was about to write) into the table, the old guard's included.</summary>
    private static readonly string[] GuardWriteLines = ["The membership table was lost", "The membership table was written back", "The membership table was behind this silo's view"];

    private readonly List<ClusterSocket> _sockets = [];
    private ScriptedCluster? _cluster;

    [Fact]
    public async Task AddSiloRightAfterASigtermJoinsSoThatASiloAtATimeReplacesEveryOne()
    {
        var cluster = await StartClusterAsync(silos: 2, frontEnds: 1);
        var frontEnd = cluster.FrontEnds[0].Url;
        var room = NewRoom();
        var socket = await ConnectAsync(frontEnd);
        Ok(await socket.RequestAsync("POST", "/joinFunRoom", new { roomName = room }));

        // A rolling replacement: each original silo in turn gets SIGTERM, and add-silo follows at once, while the
        // stopped silo is still leaving (it was counted as running and add-silo waited for one silo too many).
        var live = cluster.Silos.ToList();
        foreach (var stopped in cluster.Silos.ToArray())
        {
            await ScriptedCluster.TerminateAsync(stopped.Process);
            var (added, took) = await cluster.AddSiloAsync(AddSiloWithin);
            live.Remove(stopped);
            live.Add(added);
            var stoppedStatus = await StatusOfAsync(cluster, stopped.Process);
            output.WriteLine($"SIGTERM {stopped.Process}, then add-silo: {took.TotalSeconds:F1} s. Status of the stopped silo when it returned: {stoppedStatus.Text}");
            Assert.True(stoppedStatus.State is "stopping" or "dead", $"status reports a silo sent SIGTERM as {stoppedStatus.State}: {stoppedStatus.Text}");

            // add-silo returned once the new silo listed exactly the silos that run, and so it does.
            Assert.Equal(Ports(live), await ViewPortsAsync(added.Http));

            var exited = await UntilAsync(async () => (await StatusOfAsync(cluster, stopped.Process)).State == "dead", $"{stopped.Process} exiting after SIGTERM");
            var dead = await StatusOfAsync(cluster, stopped.Process);
            output.WriteLine($"  {stopped.Process} had exited {exited.TotalSeconds:F1} s after add-silo returned: {dead.Text}");
            Assert.Contains("how=stopped", dead.Text);
        }

        // Only silos added by add-silo are left: every view lists exactly them, the front end moved to them, the
        // socket's membership came along, and a new room works end to end.
        await UntilAsync(async () => (await Task.WhenAll(live.Select(s => ViewPortsAsync(s.Http)))).All(v => v.SequenceEqual(Ports(live))), "every remaining silo's view listing exactly the added silos");
        await UntilAsync(async () => (await SubscribersAsync(frontEnd, room)).SequenceEqual([socket.Id]), $"{room} listing its socket again after every original silo left");
        var other = NewRoom();
        Ok(await socket.RequestAsync("POST", "/joinFunRoom", new { roomName = other }));
        Ok(await socket.RequestAsync("POST", "/broadcastFunRoom", new { roomName = other, eventName = "news", data = "replaced" }));
        await socket.WaitForAsync("news", "replaced");
        AssertAllStates(await cluster.StatusAsync(), live.Select(s => s.Process.Pid), "running");
        AssertNoGuardWrite(cluster);
    }

    [Fact]
    public async Task AKilledSiloIsReportedDeadAtOnceAndAddSiloRightAfterTheKillJoinsOnceTheClusterDeclaresItDead()
    {
        var cluster = await StartClusterAsync(silos: 2, frontEnds: 1);
        var (survivor, victim) = (cluster.Silos[0], cluster.Silos[1]);

        var killed = await ScriptedCluster.KillAsync(victim.Process);
        var status = await cluster.StatusAsync();
        output.WriteLine($"status right after kill -9 {victim.Process}:\n{string.Join('\n', status.Select(s => s.Text))}");
        var dead = Assert.Single(status, s => s.Pid == victim.Process.Pid);
        Assert.True(dead.State == "dead", $"status reports a killed silo as {dead.State}: {dead.Text}");
        Assert.Contains("how=killed-or-crashed", dead.Text);
        AssertAllStates(status, status.Where(s => s.Pid != victim.Process.Pid).Select(s => s.Pid), "running");

        // The new silo cannot join before the cluster has declared the killed one dead (it validates connectivity
        // with every Active silo); add-silo waits for that, and then for the new silo's view without the dead one.
        var (added, took) = await cluster.AddSiloAsync(AddSiloWithin);
        output.WriteLine($"add-silo right after the kill took {took.TotalSeconds:F1} s ({Stopwatch.GetElapsedTime(killed).TotalSeconds:F1} s after the kill).");
        Assert.Equal(Ports([survivor, added]), await ViewPortsAsync(added.Http));
        await UntilAsync(async () => (await ViewPortsAsync(survivor.Http)).SequenceEqual(Ports([survivor, added])), "the surviving silo's view listing itself and the added silo");

        var frontEnd = cluster.FrontEnds[0].Url;
        var socket = await ConnectAsync(frontEnd);
        var room = NewRoom();
        Ok(await socket.RequestAsync("POST", "/joinFunRoom", new { roomName = room }));
        Ok(await socket.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "news", data = "after-kill" }));
        await socket.WaitForAsync("news", "after-kill");
        AssertNoGuardWrite(cluster);
    }

    [Fact]
    public async Task DownAfterKillsSigtermsAddSilosAndRedisFaultsLeavesNoProcessBehind()
    {
        var cluster = await StartClusterAsync(silos: 2, frontEnds: 1);
        await ScriptedCluster.KillAsync(cluster.Silos[0].Process);
        await cluster.AddSiloAsync(AddSiloWithin);
        await ScriptedCluster.TerminateAsync(cluster.Silos[1].Process);
        await cluster.AddSiloAsync(AddSiloWithin);
        await cluster.RestartRedisAsync();

        // Redis gone, then a silo sent SIGTERM: it cannot write that it leaves, so it stays stopping (until down's
        // SIGKILL); status must say so and never call it running.
        await cluster.ShutDownRedisAsync();
        var stuck = cluster.Silos[2];
        await ScriptedCluster.TerminateAsync(stuck.Process);
        await UntilAsync(async () => (await StatusOfAsync(cluster, stuck.Process)).State == "stopping", $"status reporting {stuck.Process} as stopping");
        await ScriptedCluster.KillAsync(cluster.FrontEnds[0].Process);

        var status = await cluster.StatusAsync();
        output.WriteLine($"status after the faults:\n{string.Join('\n', status.Select(s => s.Text))}");
        Assert.Equal(["dead how=killed-or-crashed", "dead how=stopped", "stopping", "dead how=stopped", "dead how=killed-or-crashed"],
            new[] { cluster.Silos[0].Process, cluster.Silos[1].Process, stuck.Process, cluster.Redis.Process, cluster.FrontEnds[0].Process }
                .Select(p => StateAndHow(Assert.Single(status, s => s.Pid == p.Pid))));
        Assert.True(stuck.Process.IsRunning(), $"{stuck.Process} should still be stopping");

        // The stopping silo and the running one (neither can leave without Redis) get 5 s after SIGTERM, then SIGKILL.
        // StopAsync fails when any process printed, or any process holding a file in the state folder, still runs.
        var downTook = await cluster.StopAsync(stopTimeout: TimeSpan.FromSeconds(5));
        _cluster = null; // down is done; DisposeAsync runs it again only when this one failed
        output.WriteLine($"down after the faults took {downTook.TotalSeconds:F1} s and left no process.");
    }

    [Fact]
    public async Task ACleanUpAndAnAddSiloMakeNoMembershipTableGuardWrite()
    {
        var cluster = await StartClusterAsync(silos: 3, frontEnds: 0);
        var (added, took) = await cluster.AddSiloAsync(AddSiloWithin);
        output.WriteLine($"add-silo took {took.TotalSeconds:F1} s.");
        var silos = cluster.Silos;
        await UntilAsync(async () => (await Task.WhenAll(silos.Select(s => ViewPortsAsync(s.Http)))).All(v => v.SequenceEqual(Ports(silos))), "every silo's view listing all four");

        // The joins are done; the guards checked every 50 ms throughout (their start lines say so).
        var table = await cluster.MembershipTableAsync();
        output.WriteLine($"The table: version {table.Version}, {string.Join(", ", table.Silos.Select(s => $"{s.Key} {s.Value}"))}.");
        AssertNoGuardWrite(cluster);
    }

    [Fact]
    public async Task ABadMembershipTableGuardSettingStopsTheSiloNamingIt()
    {
        await ScriptedCluster.BuiltAsync();
        foreach (var (setting, value) in new[] { ("CheckPeriod", "00:00:00"), ("CheckTimeout", "-00:00:01") })
        {
            var name = $"{MembershipTableGuardOptions.SectionName}:{setting}";
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Repository.PathOf("Silo/bin/Release/publish"),
            };

            // Nothing listens on port 1: the silo must stop on the setting before it tries Redis or binds a port.
            foreach (var arg in new[] { "Orleans.Rooms.Silo.dll", "--Orleans:Redis=127.0.0.1:1", "--urls=http://127.0.0.1:0", $"--{name}={value}" })
            {
                start.ArgumentList.Add(arg);
            }

            using var silo = Process.Start(start)!;
            var (stdout, stderr) = (silo.StandardOutput.ReadToEndAsync(), silo.StandardError.ReadToEndAsync());
            try
            {
                await silo.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                silo.Kill();
                throw new TimeoutException($"A silo with {name}={value} still ran after 60 s.");
            }

            var said = await stdout + await stderr;
            output.WriteLine($"{name}={value}: exit code {silo.ExitCode}; {said.Split('\n').FirstOrDefault(line => line.Contains(name, StringComparison.Ordinal))?.Trim()}");
            Assert.Equal(1, silo.ExitCode); // stopped on the setting, not aborted on an unhandled exception (134)
            Assert.Contains($"Orleans.Rooms.Silo did not start: {name} must be", said);
        }
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

    /// <summary>Every silo ran the guard at the test's period, and none found the table lost or wrote to it.</summary>
    private void AssertNoGuardWrite(ScriptedCluster cluster)
    {
        var writes = new List<string>();
        foreach (var silo in cluster.Silos)
        {
            var lines = File.ReadAllLines(silo.Log);
            Assert.True(lines.Any(line => line.Contains("Checking the membership table every 00:00:00.0500000", StringComparison.Ordinal)), $"{silo.Process} did not log that its guard checks every 50 ms ({silo.Log}).");
            writes.AddRange(lines.Where(line => GuardWriteLines.Any(l => line.Contains(l, StringComparison.Ordinal))).Select(line => $"{silo.Process}: {line.Trim()}"));
        }

        output.WriteLine($"Guard writes in the logs of {cluster.Silos.Count} silos: {writes.Count}.");
        Assert.True(writes.Count == 0, $"The guard wrote into a healthy membership table:\n{string.Join('\n', writes)}");
    }

    private async Task<ScriptedCluster> StartClusterAsync(int silos, int frontEnds, [CallerMemberName] string test = "")
    {
        _cluster = await ScriptedCluster.StartAsync($"{nameof(ScriptFaultTests)}/{test}", silos, frontEnds, output.WriteLine, FastGuard);
        return _cluster;
    }

    private async Task<ClusterSocket> ConnectAsync(Uri frontEnd)
    {
        var socket = await ClusterSocket.ConnectAsync(frontEnd, "news");
        _sockets.Add(socket);
        return socket;
    }

    private static async Task<ScriptedCluster.StatusLine> StatusOfAsync(ScriptedCluster cluster, ServerProcess process)
        => Assert.Single(await cluster.StatusAsync(), s => s.Pid == process.Pid);

    private static string StateAndHow(ScriptedCluster.StatusLine line)
        => line.State == "dead" ? $"dead {line.Text.Split(' ').Single(part => part.StartsWith("how=", StringComparison.Ordinal))}" : line.State;

    private static void AssertAllStates(IReadOnlyList<ScriptedCluster.StatusLine> status, IEnumerable<int> pids, string state)
    {
        foreach (var pid in pids)
        {
            var line = Assert.Single(status, s => s.Pid == pid);
            Assert.True(line.State == state, $"status should report pid {pid} {state}: {line.Text}");
        }
    }

    private static int[] Ports(IEnumerable<ScriptedCluster.SiloServer> silos) => [.. silos.Select(s => s.SiloPort).Order()];

    /// <summary>The silo ports of the Active silos in a silo's view (<c>GET /cluster</c> lists them as S&lt;ip&gt;:&lt;port&gt;:&lt;generation&gt;).</summary>
    private static async Task<int[]> ViewPortsAsync(Uri silo)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var (_, active) = await ScriptedCluster.ViewAsync(silo, timeout.Token);
        return [.. active.Select(address => int.Parse(address.Split(':')[^2])).Order()];
    }

    private static async Task<string[]> SubscribersAsync(Uri frontEnd, string room)
    {
        var answer = await BoundedHttp.GetAsync(frontEnd, $"/funRoomSubscribers?roomName={Uri.EscapeDataString(room)}", TimeSpan.FromSeconds(5));
        return answer.IsOk ? answer.Strings() : [];
    }

    /// <summary>Polls <paramref name="condition"/> (bounded) for what has no event to wait on; a request that fails counts as "not yet".</summary>
    private static Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, string what)
    {
        Exception? last = null;
        return Eventually.UntilAsync(
            async () =>
            {
                try
                {
                    return await condition();
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or InvalidOperationException)
                {
                    last = ex;
                    return false;
                }
            },
            () => $"{what}.{(last is null ? "" : $" Last error: {last.GetType().Name}: {last.Message}")}",
            SettleWithin,
            PollEvery);
    }

    private static string NewRoom() => "script-fault-" + Guid.NewGuid().ToString("N")[..8];

    private static ClusterSocket.Reply Ok(ClusterSocket.Reply reply)
        => reply.StatusCode == 200 ? reply : throw new InvalidOperationException($"Expected 200, got {reply}");
}
