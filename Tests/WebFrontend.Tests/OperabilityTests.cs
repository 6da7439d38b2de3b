using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Rooms.Client;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>What an operator sees of a front end: health, readiness, and Prometheus metrics that follow real traffic.</summary>
/// <remarks>
/// Alone, after the parallel tests: an OpenTelemetry meter provider listens to every meter of its name in the
/// process, so with other front ends running in this test process it would count their traffic too.
/// </remarks>
[Collection(Name)]
public sealed class OperabilityTests : IAsyncLifetime
{
    public const string Name = "operability";

    private const string AppCategory = "Orleans.Rooms.Tests.App";

    private readonly CapturedLogs _logs = new();
    private FrontEndServer _server = null!;

    public async Task InitializeAsync()
        => _server = await FrontEndServer.StartAsync("metrics-" + Guid.NewGuid().ToString("N")[..8], configure: builder =>
        {
            builder.Configuration["Rooms:Limits:MaxPendingMessagesPerSocket"] = "4";
            builder.Logging.AddProvider(_logs);
            builder.Logging.AddFilter<CapturedLogs>("Orleans.Rooms", LogLevel.Debug);
        }, map: app => app.MapGet("/hello", (ILoggerFactory loggers) =>
        {
            loggers.CreateLogger(AppCategory).LogInformation("Hello from the app.");
            return "hi";
        }));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task HealthzAndReadyzAnswerOnAFrontEnd()
    {
        using var http = _server.Http();

        var alive = await http.GetAsync("/healthz");
        var ready = await http.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal("Healthy", await alive.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MetricsFollowSocketsMembershipsBroadcastsAndDeliveries()
    {
        using var http = _server.Http();
        var before = await Scrape.TakeAsync(http);
        await using var a = await ConnectAsync();
        await using var b = await ConnectAsync();
        var room = Unique.Room();
        var received = 0;
        var allReceived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var client in new[] { a, b })
        {
            client.On<int>("tick", _ =>
            {
                if (Interlocked.Increment(ref received) == 6)
                {
                    allReceived.TrySetResult();
                }
            });
            (await client.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();
        }

        for (var i = 0; i < 3; i++)
        {
            (await a.PostAsync("/broadcastFunRoom", new { roomName = room, eventName = "tick", data = i })).EnsureSuccess();
        }

        await allReceived.Task.WaitAsync(TestSocket.Timeout);
        (await b.PostAsync("/leaveFunRoom", new { roomName = room })).EnsureSuccess();
        (await a.PostAsync("/blast", new { eventName = "other", data = 0 })).EnsureSuccess();
        var after = await Scrape.TakeAsync(http);

        Assert.Equal(2, after.Value("rooms_sockets_connected"));
        Assert.Equal(2, Delta(before, after, "rooms_memberships_changed_total", "change=\"join\""));
        Assert.Equal(1, Delta(before, after, "rooms_memberships_changed_total", "change=\"leave\""));
        Assert.Equal(3, Delta(before, after, "rooms_broadcasts_total", "kind=\"broadcast\""));
        Assert.Equal(1, Delta(before, after, "rooms_broadcasts_total", "kind=\"blast\""));
        Assert.Equal(6 + 2, Delta(before, after, "rooms_deliveries_total"));
        Assert.NotNull(after.Value("rooms_delivery_queue_depth"));
        Assert.Equal(2, Delta(before, after, "rooms_virtual_request_duration_seconds_count", "http_route=\"/joinFunRoom\""));
        Assert.Equal(3, Delta(before, after, "rooms_virtual_request_duration_seconds_count", "http_route=\"/broadcastFunRoom\""));
        Assert.True(Delta(before, after, "http_server_request_duration_seconds_count") >= 1, "ASP.NET Core's own request duration: " + after.Text);
        Assert.True(Delta(before, after, "dotnet_gc_heap_total_allocated_bytes_total") > 0, "The runtime's bytes allocated: " + after.Text);
        Assert.NotNull(after.Value("dotnet_gc_collections_total"));
    }

    [Fact]
    public async Task ASlowClientsDisconnectIsCounted()
    {
        using var http = _server.Http();
        var before = await Scrape.TakeAsync(http);
        using var slow = await RawSocket.ConnectAsync(_server.BaseAddress);
        var slowId = (await slow.RequestAsync(new { url = "/socketId" })).GetString()!;
        var payload = new string('p', 60 * 1024); // under Rooms:Limits:MaxBroadcastPayloadBytes (64 KiB)

        // The raw socket never reads: once the buffers between are full, its messages stay pending, and
        // past the bound (4 here) it is dropped. Bounded: the existing slow-client test needs far fewer.
        for (var i = 0; i < 300 && (await Scrape.TakeAsync(http)).Count("rooms_sockets_slow_disconnects_total") == before.Count("rooms_sockets_slow_disconnects_total"); i++)
        {
            var response = await http.PostAsJsonAsync("/broadcastFunRoom", new { roomName = slowId, eventName = "big", data = payload });
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(1, Delta(before, await Scrape.TakeAsync(http), "rooms_sockets_slow_disconnects_total"));
    }

    [Fact]
    public async Task JoinsAndLeavesAreLoggedWithTheSocketAndTheRoom()
    {
        var room = Unique.Room();
        string id;
        await using (var client = await ConnectAsync())
        {
            id = client.SocketId!;
            (await client.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();
            (await client.PostAsync("/leaveFunRoom", new { roomName = room })).EnsureSuccess();
            (await client.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();
        }

        // The last join is left by the disconnect, which the server finishes after the client is gone.
        await Eventually.HoldsAsync(() => Task.FromResult(Changes(id, room).Count(c => c == "left") == 2), $"socket {id} logged leaving {room} twice");
        Assert.Equal(["joined", "left", "joined", "left"], Changes(id, room));
    }

    [Fact]
    public async Task WhatTheAppLogsDuringASocketRequestCarriesTheSocketId()
    {
        await using var client = await ConnectAsync();

        (await client.GetAsync("/hello")).EnsureSuccess();

        var entry = Assert.Single(_logs.Entries, e => e.Category == AppCategory);
        Assert.Equal(client.SocketId, entry.Fields.GetValueOrDefault("SocketId"));
    }

    private string[] Changes(string socketId, string room)
        => [.. _logs.Entries
            .Where(e => e.Level == LogLevel.Debug && Equals(e.Fields.GetValueOrDefault("SocketId"), socketId) && Equals(e.Fields.GetValueOrDefault("Room"), room))
            .Select(e => e.Message.Contains("joined", StringComparison.Ordinal) ? "joined" : "left")];

    private async Task<RoomsClient> ConnectAsync()
    {
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        return await RoomsClient.ConnectAsync(_server.BaseAddress, new RoomsClientOptions { RequestTimeout = TestSocket.Timeout }, timeout.Token);
    }

    private static double Delta(Scrape before, Scrape after, string name, params string[] labels) => after.Count(name, labels) - before.Count(name, labels);
}

[CollectionDefinition(OperabilityTests.Name, DisableParallelization = true)]
public sealed class OperabilityCollection;
