using System.Diagnostics;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// A front end that stops gracefully (SIGTERM, a rolling deploy) drains: it is no longer ready, tells its
/// resumable clients to move (<c>rooms.move</c>), and waits for their sockets to be taken over by other front ends
/// of the cluster before it detaches. The client's socket keeps its id, its rooms and every event; nobody sees it
/// leave. A plain client gets a fresh socket, as before.
/// </summary>
public sealed class DrainTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AStoppingFrontEndHandsItsResumableSocketsToAnotherWithEveryEventOnceInOrder()
    {
        var clusterId = "drain-" + Guid.NewGuid().ToString("N")[..8];
        await using var silo = await FrontEndServer.StartAsync(clusterId);
        var stopping = await FrontEndServer.StartAsync(clusterId, gateways: [silo.GatewayPort]);
        await using var next = await FrontEndServer.StartAsync(clusterId, gateways: [silo.GatewayPort]);
        await using var proxy = new BlipProxy(stopping.BaseAddress);
        await using var client = await ResumableClient.ConnectAsync(proxy.BaseAddress);
        await using var plain = await stopping.ConnectAsync();
        await using var sender = await silo.ConnectAsync();
        var room = Unique.Room();
        var id = client.Id;
        Assert.Equal(200, (await client.RequestAsync("POST", "/joinFunRoom", new { roomName = room })).StatusCode);
        Assert.Equal(200, (await plain.RequestAsync("POST", "/joinFunRoom", new { roomName = room })).StatusCode);

        // Broadcasts every 50 ms and reads after each, on the front end that stays, while the other stops; the
        // balancer (here the proxy) sends new connections to the one that stays.
        using var done = new CancellationTokenSource();
        var sent = 0;
        var unlisted = 0;
        var load = Task.Run(async () =>
        {
            using var rate = new Rate(TimeSpan.FromMilliseconds(50)); // the load keeps coming while the socket moves
            while (!done.IsCancellationRequested)
            {
                Assert.Equal(200, (await sender.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "tick", data = new { i = sent } })).StatusCode);
                sent++;
                if (!(await sender.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings.Contains(id))
                {
                    Interlocked.Increment(ref unlisted);
                }

                if (!await rate.NextAsync(done.Token))
                {
                    break;
                }
            }
        });
        await client.WaitForAsync("tick", e => e.GetProperty("i").GetInt32() >= 3);

        proxy.Redirect(next.BaseAddress);
        var stop = Stopwatch.StartNew();
        await stopping.DisposeAsync();
        var stoppedIn = stop.Elapsed;
        var moved = await client.WaitForAttachmentAsync(2);
        var movedIn = stop.Elapsed;
        await client.WaitForAsync("tick", e => e.GetProperty("i").GetInt32() >= sent - 1);
        await done.CancelAsync();
        await load;
        var last = sent - 1;
        await client.WaitForAsync("tick", e => e.GetProperty("i").GetInt32() == last);

        Assert.True(moved.Resumed, "resumed on the front end that stays");
        Assert.Equal(id, moved.SocketId);
        Assert.Contains(ResumableSocket.MoveMethod, client.Methods);
        Assert.Equal(Enumerable.Range(0, sent), client.ReceivedOf("tick").Select(e => e.GetProperty("i").GetInt32()));
        Assert.Equal(0, unlisted);
        Assert.Equal(new[] { id, room }.Order(StringComparer.Ordinal), (await client.RequestAsync("GET", "/socketRooms")).Strings.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(plain.Id, (await sender.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings);
        Assert.True(stoppedIn < TimeSpan.FromSeconds(10), $"the stop took {stoppedIn}");
        output.WriteLine($"stop took {stoppedIn.TotalMilliseconds:F0} ms; the socket resumed on the other front end {movedIn.TotalMilliseconds:F0} ms after the stop began; {sent} events once each, in order; listed by all {sent} reads");
    }
}
