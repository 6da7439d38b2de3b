using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Client;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.WebFrontend.Tests.Clients;

/// <summary>
/// SPEC guarantee 7 with the project's .NET client (<see cref="RoomsClient"/>, resumable by default): its network
/// cut for real (a proxy resets its connections and refuses new ones) for less than the window, it comes back as
/// the same socket with every event once and in order through its <c>On&lt;T&gt;</c> handlers; past the window it
/// gets a fresh socket and says so (<see cref="RoomsClient.Replaced"/>); disposing it ends the socket at once.
/// </summary>
public sealed class RoomsClientResumeTests(FrontEndFixture fixture, ITestOutputHelper output) : IClassFixture<FrontEndFixture>
{
    [Theory]
    [InlineData(BlipProxy.ServerSide.Reset)]
    [InlineData(BlipProxy.ServerSide.Silent)] // the server's end left open and silent: the resume takes it over
    public async Task AThreeSecondOutageComesBackAsTheSameSocketWithEveryEventOnceInOrder(BlipProxy.ServerSide serverSide)
    {
        var server = fixture.Server;
        await using var proxy = new BlipProxy(server.BaseAddress);
        await using var client = await RoomsClient.ConnectAsync(proxy.BaseAddress, new RoomsClientOptions { RequestTimeout = TestSocket.Timeout });
        await using var observer = await server.ConnectAsync();
        var ticks = new Ticks();
        using var _ = client.On<Tick>("tick", ticks.Add);
        var reconnecting = Signal<Exception?>();
        client.Reconnecting += e => reconnecting.TrySet(e);
        var resumed = Signal<string>();
        client.Resumed += id => resumed.TrySet(id);
        var replaced = Signal<string>();
        client.Replaced += id => replaced.TrySet(id);
        var reconnected = Signal<string?>();
        client.Reconnected += id => reconnected.TrySet(id);
        var room = Unique.Room();
        var id = client.SocketId!;
        Assert.Equal(TimeSpan.FromSeconds(15), client.ResumeWindow);
        (await client.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();
        await BroadcastAsync(observer, room, 0, 5);
        await ticks.WaitForAsync(4);

        var severed = Stopwatch.StartNew();
        proxy.Sever(refuseFor: TimeSpan.FromSeconds(3), serverSide);
        await reconnecting.Task.WaitAsync(TestSocket.Timeout);
        Assert.False(client.IsConnected);
        var during = client.GetAsync("/socketRooms"); // made during the outage: waits, then goes out on the resumed connection
        await BroadcastAsync(observer, room, 5, 20);
        Assert.True(proxy.IsRefusing, "the 20 broadcasts were all sent while the network was out");
        Assert.Contains(id, (await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings);

        Assert.Equal(id, await resumed.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        var back = severed.Elapsed;
        Assert.Equal(id, await reconnected.Task.WaitAsync(TestSocket.Timeout));
        Assert.False(replaced.Task.IsCompleted, "not replaced");
        Assert.Equal(id, client.SocketId);
        Assert.True(client.IsConnected);
        var rooms = (await during.WaitAsync(TestSocket.Timeout)).EnsureSuccess().As<string[]>()!;
        Assert.Equal(new[] { id, room }.Order(StringComparer.Ordinal), rooms.Order(StringComparer.Ordinal));

        await BroadcastAsync(observer, room, 25, 5);
        await ticks.WaitForAsync(29);
        Assert.Equal(Enumerable.Range(0, 30), ticks.Seen);
        Assert.Equal(id, (await client.GetAsync("/socketId")).As<string>());
        output.WriteLine($"cut for 3 s (server side {serverSide}): resumed {back.TotalMilliseconds:F0} ms after the cut ({(back - TimeSpan.FromSeconds(3)).TotalMilliseconds:F0} ms after the network returned); the 20 events of the outage once each, in order");
    }

    [Fact]
    public async Task DisposingTheClientEndsItsSocketAtOnce()
    {
        var server = fixture.Server;
        var client = await RoomsClient.ConnectAsync(server.BaseAddress, new RoomsClientOptions { RequestTimeout = TestSocket.Timeout });
        await using var observer = await server.ConnectAsync();
        var room = Unique.Room();
        var id = client.SocketId!;
        (await client.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();
        Assert.Equal([id], (await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings);

        var leaving = Stopwatch.StartNew();
        await client.DisposeAsync();
        var disposed = leaving.Elapsed;

        var left = TimeSpan.Zero;
        await Eventually.HoldsAsync(
            async () =>
            {
                var listed = (await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings;
                left = leaving.Elapsed;
                return listed.Length == 0;
            },
            $"socket {id} left {room}",
            within: TimeSpan.FromSeconds(2));
        output.WriteLine($"disposed in {disposed.TotalMilliseconds:F0} ms; the socket was out of its rooms {left.TotalMilliseconds:F0} ms after dispose began (the window is 15 s)");
    }

    internal static async Task BroadcastAsync(TestSocket sender, string room, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            (await sender.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "tick", data = new Tick(i) })).EnsureSuccess();
        }
    }

    internal static Signal<T> Signal<T>() => new();

    internal sealed record Tick(int I);

    /// <summary>The ticks a handler saw, in order; waits for one by number.</summary>
    internal sealed class Ticks
    {
        private readonly List<int> _seen = [];
        private readonly List<(int I, TaskCompletionSource Signal)> _waiters = [];

        public IReadOnlyList<int> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public void Add(Tick tick)
        {
            lock (_seen)
            {
                _seen.Add(tick.I);
                foreach (var waiter in _waiters.Where(w => w.I == tick.I))
                {
                    waiter.Signal.TrySetResult();
                }
            }
        }

        public async Task WaitForAsync(int i)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_seen)
            {
                if (_seen.Contains(i))
                {
                    return;
                }

                _waiters.Add((i, signal));
            }

            try
            {
                await signal.Task.WaitAsync(TestSocket.Timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"tick {i} did not come; seen: {string.Join(",", Seen)}");
            }
        }
    }
}

/// <summary>The window passed: a fresh socket, and the client says so.</summary>
public sealed class RoomsClientPastTheWindowTests(ResumeLimitTests.ShortWindowFrontEnd fixture, ITestOutputHelper output) : IClassFixture<ResumeLimitTests.ShortWindowFrontEnd>
{
    [Fact]
    public async Task PastTheWindowTheClientGetsAFreshSocketAndIsTold()
    {
        var server = fixture.Server;
        await using var proxy = new BlipProxy(server.BaseAddress);
        await using var client = await RoomsClient.ConnectAsync(proxy.BaseAddress, new RoomsClientOptions { RequestTimeout = TestSocket.Timeout });
        await using var observer = await server.ConnectAsync();
        var resumed = RoomsClientResumeTests.Signal<string>();
        client.Resumed += id => resumed.TrySet(id);
        var replaced = RoomsClientResumeTests.Signal<string>();
        client.Replaced += id => replaced.TrySet(id);
        var reconnected = RoomsClientResumeTests.Signal<string?>();
        client.Reconnected += id => reconnected.TrySet(id);
        var room = Unique.Room();
        var id = client.SocketId!;
        Assert.Equal(TimeSpan.FromSeconds(3), client.ResumeWindow);
        (await client.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();

        var severed = Stopwatch.StartNew();
        proxy.Sever(refuseFor: TimeSpan.FromSeconds(5));
        var fresh = await replaced.Task.WaitAsync(TimeSpan.FromSeconds(15));
        var back = severed.Elapsed;

        Assert.NotEqual(id, fresh);
        Assert.Equal(fresh, await reconnected.Task.WaitAsync(TestSocket.Timeout));
        Assert.False(resumed.Task.IsCompleted, "not resumed");
        Assert.Equal(fresh, client.SocketId);
        Assert.Equal([fresh], (await client.GetAsync("/socketRooms")).EnsureSuccess().As<string[]>()!);
        Assert.Empty((await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings);
        output.WriteLine($"window 3 s, cut for 5 s: a fresh socket {back.TotalMilliseconds:F0} ms after the cut ({(back - TimeSpan.FromSeconds(5)).TotalMilliseconds:F0} ms after the network returned)");
    }
}

/// <summary>Another front end of the cluster answers the resume: the socket moves there, and the client says it resumed.</summary>
public sealed class RoomsClientOnAnotherFrontEndTests(TwoFrontEndsFixture fixture, ITestOutputHelper output) : IClassFixture<TwoFrontEndsFixture>
{
    [Fact]
    public async Task AResumeThatReachesAnotherFrontEndKeepsTheSocketItsRoomsAndItsEvents()
    {
        await using var proxy = new BlipProxy(fixture.A.BaseAddress);
        await using var client = await RoomsClient.ConnectAsync(proxy.BaseAddress, new RoomsClientOptions { RequestTimeout = TestSocket.Timeout });
        await using var sender = await fixture.B.ConnectAsync();
        var resumed = RoomsClientResumeTests.Signal<string>();
        client.Resumed += id => resumed.TrySet(id);
        var replaced = RoomsClientResumeTests.Signal<string>();
        client.Replaced += id => replaced.TrySet(id);
        var received = new System.Collections.Concurrent.ConcurrentQueue<int>();
        using var _ = client.On<JsonElement>("tick", e => received.Enqueue(e.GetProperty("i").GetInt32()));
        var room = Unique.Room();
        var id = client.SocketId!;
        (await client.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();

        proxy.Redirect(fixture.B.BaseAddress);
        var severed = Stopwatch.StartNew();
        proxy.Sever(refuseFor: TimeSpan.FromMilliseconds(1500));
        for (var i = 0; i < 10; i++)
        {
            (await sender.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "tick", data = new { i } })).EnsureSuccess();
        }

        Assert.True(proxy.IsRefusing, "the events were sent during the outage");
        Assert.Equal(id, await resumed.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        var after = severed.ElapsedMilliseconds;
        await Eventually.HoldsAsync(() => Task.FromResult(received.Count >= 10), "the 10 events of the outage");

        Assert.False(replaced.Task.IsCompleted, "not replaced");
        Assert.Equal(id, client.SocketId);
        Assert.Equal(Enumerable.Range(0, 10), received);
        Assert.Equal(new[] { id, room }.Order(StringComparer.Ordinal), (await client.GetAsync("/socketRooms")).EnsureSuccess().As<string[]>()!.Order(StringComparer.Ordinal));

        // A broadcast that read A as the socket's front end before B listed it, and reached A after the socket left,
        // follows it to B; one that reached both is had once (the client skips it by its broadcast id).
        var atA = (IFrontEndObserver)fixture.A.Services.GetRequiredService<LocalFrontEnd>();
        var atB = (IFrontEndObserver)fixture.B.Services.GetRequiredService<LocalFrontEnd>();
        await atA.Deliver(new DeliveryBatch("tick", JsonSerializer.SerializeToUtf8Bytes(new { i = 10 }), [room], null, Guid.NewGuid()));
        var both = new DeliveryBatch("tick", JsonSerializer.SerializeToUtf8Bytes(new { i = 11 }), [room], null, Guid.NewGuid());
        await atA.Deliver(both);
        await atB.Deliver(both);
        (await sender.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "tick", data = new { i = 12 } })).EnsureSuccess();
        await Eventually.HoldsAsync(() => Task.FromResult(received.Contains(12)), "the event after the late ones");
        Assert.Equal(Enumerable.Range(0, 13), received);
        output.WriteLine($"resumed through front end B {after} ms after the cut (1.5 s outage), the 10 events of the outage once each, in order; a late batch at A followed it, one at both came once");
    }
}

/// <summary>A task completed from an event handler.</summary>
internal sealed class Signal<T>
{
    private readonly TaskCompletionSource<T> _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Task => _source.Task;

    public System.Threading.Tasks.Task TrySet(T value)
    {
        _source.TrySetResult(value);
        return System.Threading.Tasks.Task.CompletedTask;
    }
}
