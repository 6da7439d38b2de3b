using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.WarmUp;
using Orleans.Rooms.WebFrontend.ExampleApp;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// The warm-up at start (Rooms:WarmUp): the example app's cycle on sockets connected over loopback as clients are,
/// run once the front end is attached. The process answers /healthz all along; /readyz waits for the warm-up, which leaves no socket
/// and no room behind. Run alone: how long its cycles go on depends on how soon its sockets connect, which other
/// classes running beside it would delay.
/// </summary>
[Collection(Name)]
public sealed class WarmUpTests
{
    public const string Name = "warm-up, alone";

    private const int Sockets = 3;
    private const int Cycles = 12;

    [Fact]
    public async Task ReadyzWaitsForTheWarmUpWhichLeavesNoSocketsOrRoomsBehind()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cycles = 0;
        await using var server = await StartAsync(
            async (socket, cycle, cancellationToken) =>
            {
                reached.TrySetResult();
                await gate.Task.WaitAsync(TestSocket.Timeout, cancellationToken);
                await ExampleAppWarmUp.CycleAsync(socket, cycle, cancellationToken);
                Interlocked.Increment(ref cycles);
            },
            waitForWarmUp: false);
        using var http = server.Http();
        await reached.Task.WaitAsync(TestSocket.Timeout);

        var alive = await http.GetAsync("/healthz");
        var warming = await http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, warming.StatusCode);
        Assert.Equal("Degraded", await warming.Content.ReadAsStringAsync()); // working as meant: logged as a warning, not a failure
        Assert.Equal(Sockets, server.Services.GetRequiredService<LocalSockets>().Count);

        gate.SetResult();
        await server.Services.GetRequiredService<StartupWarmUp>().Done.WaitAsync(TestSocket.Timeout);

        Assert.Equal(Sockets * Cycles, cycles);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(0, server.Services.GetRequiredService<LocalSockets>().Count);
        Assert.Empty(await ListedRoomsAsync(http));
    }

    [Fact]
    public async Task TheWarmUpConnectsOverLoopbackAsAClientDoesAndRunsCyclesForItsDuration()
    {
        var cycles = 0;
        long first = 0, last = 0;
        await using var server = await StartAsync(
            async (socket, cycle, cancellationToken) =>
            {
                // The id the negotiation gave is the socket's id, as for any client.
                var connected = (JsonElement)(await socket.RequestAsync("GET", "/socketId", cancellationToken: cancellationToken)).Body!;
                Assert.Equal(socket.Id, connected.GetString());
                Interlocked.CompareExchange(ref first, System.Diagnostics.Stopwatch.GetTimestamp(), 0);
                await ExampleAppWarmUp.CycleAsync(socket, cycle, cancellationToken);
                Interlocked.Increment(ref cycles);
                Interlocked.Exchange(ref last, System.Diagnostics.Stopwatch.GetTimestamp());
            },
            duration: "00:00:03", // longer than connecting its sockets takes in a process whose JIT is cold (1.2-1.5 s on a slow machine)
            cycles: 1);
        var warmUp = server.Services.GetRequiredService<StartupWarmUp>();
        await warmUp.Done.WaitAsync(TestSocket.Timeout);

        Assert.NotNull(warmUp.Loopback);
        Assert.Equal("127.0.0.1", warmUp.Loopback!.Host);
        // One cycle per socket asked for: the duration made them go on (the first cycle starts after the sockets connect).
        Assert.True(cycles > Sockets, $"{cycles} cycles: no more than the one per socket asked for, though the duration is 3 s");
        var ran = System.Diagnostics.Stopwatch.GetElapsedTime(first, last);
        Assert.True(ran >= TimeSpan.FromSeconds(0.5), $"the cycles ran for {ran.TotalMilliseconds:F0} ms of the 3 s duration");
        Assert.Equal(0, server.Services.GetRequiredService<LocalSockets>().Count);
        using var http = server.Http();
        Assert.Empty(await ListedRoomsAsync(http));
    }

    [Fact]
    public async Task TheWarmUpGoesOnPastItsDurationWhileTheJitCompilesButNotPastReadyWithin()
    {
        var runtime = new PlayedRuntime(methodsPerRead: 1_000);
        var (ran, took) = await RunCyclesAsync(runtime, duration: "00:00:00", readyWithin: "00:00:02");

        // Never quiet: the cycles go on until the process is ReadyWithin old less a window (1.5 s after it started),
        // where they would have stopped after their one cycle each without the JIT's activity.
        Assert.True(ran >= TimeSpan.FromSeconds(0.7), $"the cycles ran for {ran.TotalMilliseconds:F0} ms while the JIT was never quiet (ReadyWithin 2 s)");
        Assert.True(took < TimeSpan.FromSeconds(8), $"the warm-up took {took.TotalSeconds:F1} s, past ReadyWithin (2 s)");
        Assert.True(runtime.Reads >= 3, $"the JIT's count was read {runtime.Reads} times");
    }

    [Fact]
    public async Task AQuietJitEndsTheWarmUpOnceItsDurationIsOver()
    {
        var runtime = new PlayedRuntime(methodsPerRead: 0);
        var (ran, took) = await RunCyclesAsync(runtime, duration: "00:00:01", readyWithin: "00:01:00");

        // Quiet from the first window: the duration and one window, far from the minute ReadyWithin would allow.
        Assert.True(ran >= TimeSpan.FromSeconds(0.5), $"the cycles ran for {ran.TotalMilliseconds:F0} ms of the 1 s duration");
        Assert.True(took < TimeSpan.FromSeconds(10), $"the warm-up took {took.TotalSeconds:F1} s though the JIT was quiet after its 1 s duration");
    }

    [Fact]
    public async Task AWarmUpThatFailsLeavesTheFrontEndReadyAndServing()
    {
        await using var server = await StartAsync((_, _, _) => throw new InvalidOperationException("The cycle failed."));
        using var http = server.Http();

        await server.Services.GetRequiredService<StartupWarmUp>().Done.WaitAsync(TestSocket.Timeout);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(0, server.Services.GetRequiredService<LocalSockets>().Count);
        await using var socket = await server.ConnectAsync();
        var room = Unique.Room();
        (await socket.RequestAsync("POST", "/joinFunRoom", new { roomName = room })).EnsureSuccess();
        Assert.Equal([room], await ListedRoomsAsync(http));
    }

    [Fact]
    public async Task TheExampleAppsWarmUpRunsOnAnInProcessSocketAndReceivesItsOwnBroadcasts()
    {
        await using var server = await StartAsync(cycle: null);
        await server.Services.GetRequiredService<StartupWarmUp>().Done.WaitAsync(TestSocket.Timeout);
        using var bound = new CancellationTokenSource(TestSocket.Timeout);
        await using var socket = await InProcessSocket.ConnectAsync(server.Services, bound.Token);

        for (var cycle = 0; cycle < 11; cycle++)
        {
            await ExampleAppWarmUp.CycleAsync(socket, cycle, bound.Token);
        }

        var id = await socket.RequestAsync("GET", "/socketId", cancellationToken: bound.Token);
        Assert.Equal(200, id.StatusCode);
        Assert.Equal(socket.Id, ((JsonElement)id.Body!).GetString());
        using var http = server.Http();
        Assert.Empty(await ListedRoomsAsync(http));
    }

    /// <summary>
    /// Starts a server whose warm-up reads <paramref name="runtime"/>, runs one cycle per socket asked for, and gives how
    /// long the cycles ran (first to last) and how long the warm-up took from the first cycle to its end.
    /// </summary>
    private static async Task<(TimeSpan Ran, TimeSpan Took)> RunCyclesAsync(PlayedRuntime runtime, string duration, string readyWithin)
    {
        long first = 0, last = 0;
        await using var server = await StartAsync(
            async (socket, cycle, cancellationToken) =>
            {
                Interlocked.CompareExchange(ref first, System.Diagnostics.Stopwatch.GetTimestamp(), 0);
                await ExampleAppWarmUp.CycleAsync(socket, cycle, cancellationToken);
                Interlocked.Exchange(ref last, System.Diagnostics.Stopwatch.GetTimestamp());
            },
            duration: duration,
            cycles: 1,
            readyWithin: readyWithin,
            runtime: runtime);
        await server.Services.GetRequiredService<StartupWarmUp>().Done.WaitAsync(TestSocket.Timeout);
        Assert.Equal(0, server.Services.GetRequiredService<LocalSockets>().Count);
        return (System.Diagnostics.Stopwatch.GetElapsedTime(first, last), System.Diagnostics.Stopwatch.GetElapsedTime(first));
    }

    /// <param name="readyWithin">Rooms:WarmUp:ReadyWithin; none by default, so that a test's cycles are the ones it asks for.</param>
    /// <param name="runtime">What the warm-up reads of the JIT, when not the real runtime.</param>
    private static Task<FrontEndServer> StartAsync(
        WarmUpCycle? cycle, bool waitForWarmUp = true, string? duration = null, int cycles = Cycles, string readyWithin = "00:00:00", RuntimeActivity? runtime = null)
        => FrontEndServer.StartAsync(
            "warm-up-" + Guid.NewGuid().ToString("N")[..8],
            configure: builder =>
            {
                // Added before the app adds its own: the first cycle added is the one that runs.
                if (cycle is not null)
                {
                    builder.Services.AddRoomsWarmUp(cycle);
                }

                if (runtime is not null)
                {
                    builder.Services.AddSingleton(runtime);
                }
            },
            settings: new Dictionary<string, string?>
            {
                ["Rooms:WarmUp:Enabled"] = "true",
                ["Rooms:WarmUp:Sockets"] = Sockets.ToString(),
                ["Rooms:WarmUp:Cycles"] = cycles.ToString(),
                ["Rooms:WarmUp:Duration"] = duration ?? "00:00:00",
                ["Rooms:WarmUp:ReadyWithin"] = readyWithin,
            },
            waitForWarmUp: waitForWarmUp);

    /// <summary>A runtime whose process started when this was made, and whose JIT compiles so many methods per read.</summary>
    private sealed class PlayedRuntime(long methodsPerRead) : RuntimeActivity
    {
        private long _compiled;

        public int Reads { get; private set; }

        public override DateTimeOffset ProcessStarted { get; } = DateTimeOffset.UtcNow;

        public override long CompiledMethods
        {
            get
            {
                Reads++;
                return _compiled += methodsPerRead;
            }
        }
    }

    private static async Task<string[]> ListedRoomsAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/rooms");
        request.Headers.Add("x-admin-key", FrontEndServer.AdminKey);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var page = await response.Content.ReadFromJsonAsync<JsonElement>();
        return [.. page.GetProperty("rooms").EnumerateArray().Select(r => r.GetString()!)];
    }
}

[CollectionDefinition(WarmUpTests.Name, DisableParallelization = true)]
public sealed class WarmUpCollection;
