using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Lease;
using Orleans.Rooms.Membership;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// SPEC guarantee 7, a blip is not a disconnect: a resumable client whose network is cut (through a proxy that
/// resets its connections and refuses new ones) comes back as the same socket within the window, with every
/// event once and in order; past the window, and for plain clients, a disconnect is what it always was.
/// </summary>
public sealed class ResumeTests(FrontEndFixture fixture, ITestOutputHelper output) : IClassFixture<FrontEndFixture>
{
    [Fact]
    public async Task AThreeSecondOutageComesBackAsTheSameSocketWithEveryEventOnceInOrder()
    {
        var server = fixture.Server;
        await using var scene = await BlipScene.StartAsync(server);
        var (proxy, client, observer, room, id) = (scene.Proxy, scene.Client, scene.Observer, scene.Room, scene.Id);
        Assert.Equal(15_000, client.Attachments[0].WindowMs);
        await BroadcastAsync(observer, room, 0, 5);
        await client.WaitForAsync("tick", p => p.GetProperty("i").GetInt32() == 4);

        var severed = Stopwatch.StartNew();
        proxy.Sever(refuseFor: TimeSpan.FromSeconds(3));
        await client.WaitForDropAsync(attachments: 1);
        using var stopWatching = new CancellationTokenSource();
        var watching = WatchSubscribersAsync(observer, room, stopWatching.Token);

        await BroadcastAsync(observer, room, 5, 20);
        Assert.True(proxy.IsRefusing, "the 20 broadcasts were all sent while the network was out");
        var resumed = await client.WaitForAttachmentAsync(2, within: TimeSpan.FromSeconds(10));
        var outage = severed.Elapsed;
        await stopWatching.CancelAsync();
        var listings = await watching;

        Assert.True(resumed.Resumed, "the server resumed the socket");
        Assert.Equal(id, resumed.SocketId);
        Assert.True(listings.Count >= 5, $"subscribers were read during the outage ({listings.Count} times)");
        Assert.All(listings, listed => Assert.Contains(id, listed));

        await BroadcastAsync(observer, room, 25, 5);
        await client.WaitForAsync("tick", p => p.GetProperty("i").GetInt32() == 29);
        Assert.Empty(client.Faults);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), client.Seqs);
        Assert.Equal(Enumerable.Range(0, 30), client.ReceivedOf("tick").Select(p => p.GetProperty("i").GetInt32()));
        output.WriteLine($"cut for 3 s: resumed {outage.TotalMilliseconds:F0} ms after the cut, {listings.Count} subscriber reads all listed it");

        // Virtual requests on the new connection act as the socket it took over.
        Assert.Equal(id, (await client.RequestAsync("GET", "/socketId")).Text);
        Assert.Equal(new[] { id, room }.Order(StringComparer.Ordinal), (await client.RequestAsync("GET", "/socketRooms")).Strings.Order(StringComparer.Ordinal));
        var another = Unique.Room();
        Assert.Equal(200, (await client.RequestAsync("POST", "/joinFunRoom", new { roomName = another })).StatusCode);
        Assert.Equal([id], (await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = another })).Strings);
        await client.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "tick", data = new { i = -1 }, exceptSelf = true });
        await observer.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "marker", data = "after-except" });
        await client.WaitForAsync("marker", p => p.GetString() == "after-except");
        Assert.DoesNotContain(client.ReceivedOf("tick"), p => p.GetProperty("i").GetInt32() == -1);

        // The new connection's own id never became a socket of its own.
        var connectionId = client.ConnectionId;
        Assert.NotEqual(id, connectionId);
        Assert.Equal(404, (await observer.RequestAsync("GET", $"/socketRooms?socketId={connectionId}")).StatusCode);
        Assert.Empty((await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = connectionId })).Strings);
    }

    [Fact]
    public async Task APlainClientStillLeavesItsRoomsAsSoonAsItsConnectionIsCut()
    {
        var server = fixture.Server;
        await using var proxy = new BlipProxy(server.BaseAddress);
        var plain = await TestSocket.ConnectAsync(proxy.BaseAddress);
        await using var observer = await server.ConnectAsync();
        var room = Unique.Room();
        var id = plain.Id;
        await plain.RequestAsync("POST", "/joinFunRoom", new { roomName = room });
        await observer.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, data = "plain event" });
        await plain.WaitForAsync("message", p => p.GetString() == "plain event");

        var severed = Stopwatch.StartNew();
        proxy.Sever(refuseFor: TimeSpan.FromSeconds(3));

        await Eventually.HoldsAsync(async () => (await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings.Length == 0, $"plain socket {id} left {room}", within: TimeSpan.FromSeconds(5));
        Assert.Equal(404, (await observer.RequestAsync("GET", $"/socketRooms?socketId={id}")).StatusCode);
        output.WriteLine($"plain socket left its rooms {severed.Elapsed.TotalMilliseconds:F0} ms after the cut (the resume window is 15 s)");
        await plain.DisposeAsync();
    }

    [Fact]
    public async Task AClientThatDisconnectsOnPurposeIsNotHeld()
    {
        var server = fixture.Server;
        await using var client = await ResumableClient.ConnectAsync(server.BaseAddress);
        await using var observer = await server.ConnectAsync();
        var room = Unique.Room();
        var id = client.Id;
        var token = client.Token;
        await client.RequestAsync("POST", "/joinFunRoom", new { roomName = room });
        var leaving = Stopwatch.StartNew();

        await client.DisconnectAsync();

        await Eventually.HoldsAsync(async () => !(await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings.Contains(id), $"socket {id} left {room}", within: TimeSpan.FromSeconds(5));
        output.WriteLine($"a resumable client that called Disconnect left its rooms {leaving.ElapsedMilliseconds} ms later (window 15 s)");
        await using var again = await ResumableClient.ConnectAsync(server.BaseAddress, $"resume={Uri.EscapeDataString(token)}&seq=0");
        Assert.False(again.Attachments[0].Resumed);
    }

    [Fact]
    public async Task AForgedOrSpentTokenGetsAFreshSocketAndLeavesTheOwnerAlone()
    {
        var server = fixture.Server;
        await using var scene = await BlipScene.StartAsync(server);
        var (proxy, owner, observer, room, id) = (scene.Proxy, scene.Client, scene.Observer, scene.Room, scene.Id);
        var spent = owner.Token;
        proxy.Sever(refuseFor: TimeSpan.Zero);
        Assert.True((await owner.WaitForAttachmentAsync(2)).Resumed);

        var forged = $"{id}.{Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32))}";
        foreach (var token in new[] { forged, spent, "nonsense", id })
        {
            await using var intruder = await ResumableClient.ConnectAsync(server.BaseAddress, $"resume={Uri.EscapeDataString(token)}&seq=0");
            var attached = intruder.Attachments[0];
            Assert.False(attached.Resumed);
            Assert.NotEqual(id, attached.SocketId);
            Assert.Equal([attached.SocketId], (await intruder.RequestAsync("GET", "/socketRooms")).Strings);
        }

        await observer.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "marker", data = "owner still here" });
        await owner.WaitForAsync("marker", p => p.GetString() == "owner still here");
        Assert.Equal(2, owner.Attachments.Count);
        Assert.Equal(id, owner.Id);
        Assert.Empty(owner.Faults);
    }

    [Fact]
    public async Task EventsSurviveResumesThatRaceWithOngoingBroadcasts()
    {
        var server = fixture.Server;
        await using var scene = await BlipScene.StartAsync(server);
        var (proxy, client, room, id) = (scene.Proxy, scene.Client, scene.Room, scene.Id);
        using var http = server.Http();
        var sent = new SentCount();
        using var stop = new CancellationTokenSource();

        // Paced by the client's own receipt: at most Unprocessed broadcasts it has not processed yet, so what piles up
        // during a cut stays well inside the default resume buffer, and between cuts the stream runs as fast as it takes them.
        const int Unprocessed = 50;
        var sending = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var i = sent.Value;
                if (i >= Unprocessed)
                {
                    await client.WaitForAsync("tick", p => p.GetProperty("i").GetInt32() >= i - Unprocessed);
                }

                var response = await http.PostAsJsonAsync("/broadcastFunRoom", new { roomName = room, eventName = "tick", data = new { i } });
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                sent.Increment();
            }
        });

        // Each cut lands in the middle of the stream; the second leaves the server's end open and silent, so the
        // resume takes over a connection the server still thinks is alive.
        var cuts = new[] { (TimeSpan.FromMilliseconds(300), BlipProxy.ServerSide.Reset), (TimeSpan.FromMilliseconds(300), BlipProxy.ServerSide.Silent), (TimeSpan.Zero, BlipProxy.ServerSide.Reset) };
        for (var n = 0; n < cuts.Length; n++)
        {
            await sent.Reached(sent.Value + 20).WaitAsync(TestSocket.Timeout); // 20 more broadcasts before the cut
            proxy.Sever(cuts[n].Item1, cuts[n].Item2);
            var attached = await client.WaitForAttachmentAsync(n + 2, within: TimeSpan.FromSeconds(10));
            Assert.True(attached.Resumed, $"resume #{n + 1} resumed");
        }

        var closing = Stopwatch.StartNew();
        await sent.Reached(sent.Value + 20).WaitAsync(TestSocket.Timeout); // 20 more broadcasts after the last resume
        await stop.CancelAsync();
        await sending.WaitAsync(TestSocket.Timeout);
        var total = sent.Value;
        await client.WaitForAsync("tick", p => p.GetProperty("i").GetInt32() == total - 1);

        Assert.Empty(client.Faults);
        Assert.Equal(id, client.Id);
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), client.Seqs);
        Assert.Equal(Enumerable.Range(0, total), client.ReceivedOf("tick").Select(p => p.GetProperty("i").GetInt32()));
        output.WriteLine($"{total} broadcasts across {cuts.Length} resumes: each once, in order");

        // The silent connection was closed by the take-over, not by SignalR's 30 s client time-out (the close
        // handshake that the WebSocket transport offers the dead client takes up to its 5 s close time-out).
        await proxy.WaitForServerToCloseSilencedAsync(within: TimeSpan.FromSeconds(10));
        output.WriteLine($"the half-dead connection was closed by the server {closing.ElapsedMilliseconds} ms after the last resume");
    }

    [Fact]
    public async Task AHeldSocketCountsAsLiveForItsFrontEndsLeaseAndIsPurgedWithIt()
    {
        var server = fixture.Server;
        await using var scene = await BlipScene.StartAsync(server);
        var (proxy, client, room, id) = (scene.Proxy, scene.Client, scene.Room, scene.Id);
        var rooms = server.Services.GetRequiredService<IRoomService>();
        proxy.Sever(refuseFor: TimeSpan.FromSeconds(4));
        await client.WaitForDropAsync(attachments: 1);

        // What the cluster does to a front end it has not heard from: every socket it tracks, held ones
        // included, out of every room.
        var frontEndId = server.Services.GetRequiredService<FrontEndIdentity>().Id;
        await server.Services.GetRequiredService<IGrainFactory>().GetGrain<IFrontEndGrain>(frontEndId).Detach();
        Assert.DoesNotContain(id, await rooms.SubscribersAsync(room));

        // This front end is alive, though: it restores its sockets from its record, the held one among them,
        // and the client still resumes it.
        await Eventually.HoldsAsync(async () => (await rooms.SubscribersAsync(room)).Contains(id), $"held socket {id} restored into {room}");
        Assert.True(proxy.IsRefusing, "restored while the network was still out");
        var resumed = await client.WaitForAttachmentAsync(2, within: TimeSpan.FromSeconds(10));
        Assert.True(resumed.Resumed);
        Assert.Equal(id, resumed.SocketId);
        Assert.Equal(new[] { id, room }.Order(StringComparer.Ordinal), (await client.RequestAsync("GET", "/socketRooms")).Strings.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("ResumeWindow", "00:00:00.5")]
    [InlineData("ResumeWindow", "01:00:00")]
    [InlineData("ResumeBufferMaxEvents", "0")]
    [InlineData("ResumeBufferMaxBytes", "100")]
    public void ABadResumeSettingIsRejectedNamingIt(string setting, string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"Rooms:{setting}"] = value })
            .Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration)
            .AddSelfValidatingOptions<RoomsOptions>(RoomsOptions.SectionName).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RoomsOptions>>().Value);

        Assert.Contains($"Rooms:{setting}", error.Message);
    }

    private static async Task BroadcastAsync(TestSocket sender, string room, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            var reply = await sender.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "tick", data = new { i } });
            Assert.Equal(200, reply.StatusCode);
        }
    }

    /// <summary>Reads the room's subscribers over and over until stopped; returns each reading.</summary>
    private static async Task<List<string[]>> WatchSubscribersAsync(TestSocket observer, string room, CancellationToken stop)
    {
        var readings = new List<string[]>();
        using var rate = new Rate(TimeSpan.FromMilliseconds(100)); // back to back, the reads and the broadcasts on the same socket would pass its request limit
        while (!stop.IsCancellationRequested)
        {
            readings.Add((await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings);
            if (!await rate.NextAsync(stop))
            {
                break;
            }
        }

        return readings;
    }

    /// <summary>How many broadcasts the sending loop has had answered; a test waits on a count being reached.</summary>
    private sealed class SentCount
    {
        private readonly Lock _gate = new();
        private readonly List<(int Target, TaskCompletionSource Reached)> _waiting = [];
        private int _value;

        public int Value
        {
            get
            {
                lock (_gate)
                {
                    return _value;
                }
            }
        }

        public void Increment()
        {
            List<TaskCompletionSource> reached = [];
            lock (_gate)
            {
                _value++;
                reached.AddRange(_waiting.Where(w => w.Target <= _value).Select(w => w.Reached));
                _waiting.RemoveAll(w => w.Target <= _value);
            }

            reached.ForEach(r => r.TrySetResult());
        }

        public Task Reached(int target)
        {
            lock (_gate)
            {
                if (_value >= target)
                {
                    return Task.CompletedTask;
                }

                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting.Add((target, reached));
                return reached.Task;
            }
        }
    }
}
