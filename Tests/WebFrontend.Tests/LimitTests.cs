using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Client;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// Each limit of <c>Rooms:Limits</c>, set low on a server of this class: the client over it gets a clear
/// 4xx (or 5xx where the server gives up) envelope that names the setting, and its socket and the others
/// keep working.
/// </summary>
public sealed class LimitTests : IAsyncLifetime
{
    private readonly SlowEndpoint _slow = new();
    private readonly TaskCompletionSource _waiting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _abortedBySocket = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FrontEndServer _server = null!;

    public async Task InitializeAsync()
        => _server = await FrontEndServer.StartAsync("limits-" + Guid.NewGuid().ToString("N")[..8], settings: new Dictionary<string, string?>
        {
            ["Rooms:Limits:RequestsPerSecondPerSocket"] = "20",
            ["Rooms:Limits:MaxParallelRequestsPerSocket"] = "2",
            ["Rooms:Limits:MaxConnectionsPerIp"] = "4",
            ["Rooms:Limits:MaxRoomsPerList"] = "3",
            ["Rooms:Limits:MaxBroadcastPayloadBytes"] = "1024",
            ["Rooms:Limits:MaxResponseBytes"] = "2048",
            ["Rooms:Limits:MaxRoomsPageSize"] = "5",
            // Long enough for a cold silo's first page of rooms on a loaded machine (16 directory shards activated), short
            // enough for the tests that wait it out.
            ["Rooms:Limits:RequestTimeout"] = "00:00:02",
        }, map: app =>
        {
            app.MapGet("/big/{bytes:int}", (int bytes) => Results.Text(new string('b', bytes)));
            app.MapGet("/forever", async (HttpContext http) =>
            {
                // Answers never: it waits for its request to be aborted (the virtual request's time-out).
                var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await using var registration = http.RequestAborted.Register(() => aborted.TrySetResult());
                await aborted.Task;
            });
            app.MapGet("/slow", _slow.HandleAsync);
            app.MapGet("/aborted", (HttpContext http) => Results.Json(new { canBeCanceled = http.RequestAborted.CanBeCanceled, cancelled = http.RequestAborted.IsCancellationRequested }));
            app.MapGet("/until-socket-goes", async (HttpContext http) =>
            {
                var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await using var registration = http.RequestAborted.Register(() => aborted.TrySetResult());
                _waiting.TrySetResult();
                await aborted.Task;
                _abortedBySocket.TrySetResult();
            });
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ABurstFromOneSocketIsAnswered429WhileAnotherSocketIsServed()
    {
        await using var noisy = await _server.ConnectAsync();
        await using var quiet = await _server.ConnectAsync();

        var burst = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => noisy.RequestAsync("GET", "/socketId")));
        var other = await quiet.RequestAsync("GET", "/socketId");

        var limited = burst.Where(r => r.StatusCode == 429).ToArray();
        // 20 at once, 2 more every 100 ms: however slowly the burst is served here, most of it is over.
        Assert.InRange(limited.Length, 30, 100);
        Assert.All(burst, r => Assert.Contains(r.StatusCode, new[] { 200, 429 }));
        Assert.Contains("Rooms:Limits:RequestsPerSecondPerSocket", limited[0].Text);
        Assert.Equal(200, other.StatusCode);

        // The bucket refills from the partitioned limiter's own timer, which tells nobody: the noisy socket is served again within 5 s.
        await Eventually.HoldsAsync(async () => (await noisy.RequestAsync("GET", "/socketId")).StatusCode == 200, "the noisy socket is served again once its bucket refills", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ASocketRunsAtMostTheConfiguredRequestsAtOnce()
    {
        await using var socket = await _server.ConnectAsync();

        var replies = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => socket.RequestAsync("GET", "/slow")));

        Assert.All(replies, r => Assert.Equal(200, r.StatusCode));
        Assert.Equal(2, _slow.MostAtOnce);
    }

    [Fact]
    public async Task ABroadcastToMoreRoomsThanAllowedIs400AndReachesNoOne()
    {
        await using var member = await _server.ConnectAsync();

        var reply = await member.RequestAsync("POST", "/broadcastFunRoom", new { roomName = new[] { member.Id, "b", "c", "d" }, data = "x" });
        await member.RequestAsync("POST", "/broadcastFunRoom", new { roomName = member.Id, eventName = "marker", data = "after" });
        await member.WaitForMarkerAsync("after");

        Assert.Equal(400, reply.StatusCode);
        Assert.Contains("Rooms:Limits:MaxRoomsPerList", reply.Error);
        Assert.Empty(member.ReceivedOf("message"));
    }

    [Fact]
    public async Task APayloadOverTheBroadcastCapIs413OverASocketAndOverHttpAndReachesNoOne()
    {
        await using var member = await _server.ConnectAsync();
        using var http = _server.Http();
        var big = new string('p', 2000);

        var viaSocket = await member.RequestAsync("POST", "/broadcastFunRoom", new { roomName = member.Id, data = big });
        var viaHttp = await http.PostAsJsonAsync("/broadcastFunRoom", new { roomName = member.Id, data = big });
        var blast = await http.PostAsJsonAsync("/blast", new { data = big });
        await member.RequestAsync("POST", "/broadcastFunRoom", new { roomName = member.Id, eventName = "marker", data = "after" });
        await member.WaitForMarkerAsync("after");

        Assert.Equal(413, viaSocket.StatusCode);
        Assert.Contains("Rooms:Limits:MaxBroadcastPayloadBytes", viaSocket.Error);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, viaHttp.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, blast.StatusCode);
        Assert.Empty(member.ReceivedOf("message"));
    }

    [Fact]
    public async Task APageOfRoomsOverTheCapIs400NamingLimit()
    {
        await using var socket = await _server.ConnectAsync();
        var admin = new Dictionary<string, string> { ["x-admin-key"] = FrontEndServer.AdminKey };

        var over = await socket.RequestAsync("GET", "/rooms?limit=6", headers: admin);
        var within = await socket.RequestAsync("GET", "/rooms?limit=5", headers: admin);
        var defaulted = await socket.RequestAsync("GET", "/rooms", headers: admin);

        Assert.Equal(400, over.StatusCode);
        Assert.Contains("Rooms:Limits:MaxRoomsPageSize", over.Error);
        Assert.Equal(200, within.StatusCode);
        Assert.Equal(200, defaulted.StatusCode);
    }

    [Fact]
    public async Task AResponseOverTheCapIsAnErrorThatSaysSoAndTheSocketStaysUp()
    {
        await using var socket = await _server.ConnectAsync();

        var over = await socket.RequestAsync("GET", "/big/4096");
        var within = await socket.RequestAsync("GET", "/big/1000");

        Assert.Equal(500, over.StatusCode);
        Assert.Contains("Rooms:Limits:MaxResponseBytes", over.Error);
        Assert.Equal(1000, within.Text!.Length);
    }

    [Fact]
    public async Task ARequestOverTheTimeoutIsCancelledAndAnswered504()
    {
        await using var socket = await _server.ConnectAsync();

        var reply = await socket.RequestAsync("GET", "/forever");

        Assert.Equal(504, reply.StatusCode);
        Assert.Contains("Rooms:Limits:RequestTimeout", reply.Error);
        Assert.Equal(200, (await socket.RequestAsync("GET", "/socketId")).StatusCode);
    }

    [Fact]
    public async Task TheRequestsAfterATimedOutOneRunUncancelledAndAreAnswered200()
    {
        // A request's cancellation is kept with its pooled features and reset for the next: one that fired must not
        // reach the requests after it.
        await using var socket = await _server.ConnectAsync();

        var timedOut = await socket.RequestAsync("GET", "/forever");
        var after = new List<RoomsResponse>();
        for (var i = 0; i < 5; i++)
        {
            after.Add(await socket.RequestAsync("GET", "/aborted"));
        }

        Assert.Equal(504, timedOut.StatusCode);
        Assert.All(after, reply =>
        {
            Assert.Equal(200, reply.StatusCode);
            Assert.True(reply.Body.GetProperty("canBeCanceled").GetBoolean());
            Assert.False(reply.Body.GetProperty("cancelled").GetBoolean());
        });
    }

    [Fact]
    public async Task ASocketThatGoesCancelsItsRequestInFlight()
    {
        var socket = await _server.ConnectAsync();
        var pending = socket.RequestAsync("GET", "/until-socket-goes");
        await _waiting.Task.WaitAsync(TestSocket.Timeout);

        await socket.DisposeAsync();

        await _abortedBySocket.Task.WaitAsync(TestSocket.Timeout);
        await Assert.ThrowsAnyAsync<Exception>(() => pending);
        await using var other = await _server.ConnectAsync();
        Assert.False((await other.RequestAsync("GET", "/aborted")).Body.GetProperty("cancelled").GetBoolean());
    }

    [Fact]
    public async Task ConnectionsFromOneAddressOverTheCapAreRefused429UntilOneCloses()
    {
        // Its own server: the other tests of this class open sockets from the same address in parallel.
        await using var server = await FrontEndServer.StartAsync("perip-" + Guid.NewGuid().ToString("N")[..8], settings: new Dictionary<string, string?> { ["Rooms:Limits:MaxConnectionsPerIp"] = "2" });
        await using var first = await server.ConnectAsync();

        // The first socket's negotiation holds its permit until the server has unwound that request, which may
        // come after the client has its answer and has connected: under load the second may meet it still held.
        var second = await RetryConnectAsync(server);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => TestSocket.ConnectAsync(server.BaseAddress));
        await second.DisposeAsync();
        await using var third = await RetryConnectAsync(server);

        Assert.Contains("429", refused.ToString());
        Assert.Equal(200, (await first.RequestAsync("GET", "/socketId")).StatusCode);
        Assert.Equal(200, (await third.RequestAsync("GET", "/socketId")).StatusCode);
    }

    [Theory]
    [InlineData("Rooms:Limits:MaxRoomsPerList", "0")]
    [InlineData("Rooms:Limits:RequestsPerSecondPerSocket", "-1")]
    [InlineData("Rooms:Limits:MaxPendingBytesPerSocket", "10")]
    [InlineData("Rooms:Limits:MaxRoomsPageSize", "10001")]
    [InlineData("Rooms:Limits:RequestTimeout", "00:00:00")]
    [InlineData("Rooms:Origins:Allowed:0", "https://app.example.com/path")]
    public async Task ABadSettingStopsStartUpNamingIt(string setting, string value)
    {
        var failure = await Assert.ThrowsAnyAsync<OptionsValidationException>(() => FrontEndServer.StartAsync("bad-" + Guid.NewGuid().ToString("N")[..8], settings: new Dictionary<string, string?> { [setting] = value }));

        Assert.Contains(setting, failure.Message);
    }

    /// <summary>
    /// The server lets go of a permit after the client is done with it (a closed connection, an answered
    /// negotiation), and says so to nobody: try again, bounded (the one poll, <see cref="Eventually"/>).
    /// </summary>
    private static async Task<TestSocket> RetryConnectAsync(FrontEndServer server)
    {
        TestSocket? socket = null;
        Exception? last = null;
        await Eventually.UntilAsync(
            async () =>
            {
                try
                {
                    socket = await server.ConnectAsync();
                    return true;
                }
                catch (Exception ex)
                {
                    last = ex;
                    return false;
                }
            },
            () => $"a connection once the server let go of the closed one; the last attempt: {last?.Message}",
            TestSocket.Timeout,
            Eventually.DefaultEvery);
        return socket!;
    }

    /// <summary>
    /// Records how many of its requests ran at once. Each request stays until two run together (the configured
    /// parallel limit), so the limit is reached rather than hoped for; a server that ran only one at a time
    /// fails them after a bounded wait instead of hanging.
    /// </summary>
    private sealed class SlowEndpoint
    {
        private readonly TaskCompletionSource _twoRunning = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _running;
        private int _most;

        public int MostAtOnce => Volatile.Read(ref _most);

        public async Task<string> HandleAsync()
        {
            var now = Interlocked.Increment(ref _running);
            for (var most = _most; now > most; most = _most)
            {
                Interlocked.CompareExchange(ref _most, now, most);
            }

            if (now >= 2)
            {
                _twoRunning.TrySetResult();
            }

            try
            {
                await _twoRunning.Task.WaitAsync(TestSocket.Timeout);
                return "done";
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }
}
