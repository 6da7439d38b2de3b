using System.Text.Json;
using Orleans.Rooms.Client;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests.Clients;

/// <summary>The .NET client against a real front end: typed requests, typed events, reconnecting.</summary>
[Collection(ClientsCollection.Name)]
public sealed class RoomsClientTests(ClientsFixture fixture)
{
    [Fact]
    public async Task RequestsAnswerWithStatusHeadersAndATypedBody()
    {
        await using var client = await ConnectAsync();
        var room = Unique.Room();

        var id = await client.GetAsync("/socketId");
        var joined = await client.PostAsync("/joinFunRoom", new { roomName = room });
        var rooms = await client.RequestAsync("GET", "/socketRooms", headers: new Dictionary<string, string> { ["x-anything"] = "1" });
        var missing = await client.PostAsync("/joinFunRoom", new { });
        var notFound = await client.DeleteAsync("/no/such/route");

        Assert.Equal(client.SocketId, id.As<string>());
        Assert.Equal(200, joined.StatusCode);
        Assert.Equal($"Joined a fun room called {room}!", joined.As<MessageBody>()!.Message);
        Assert.StartsWith("application/json", joined.Headers["Content-Type"]);
        Assert.Equal(new[] { client.SocketId!, room }.Order(), rooms.As<string[]>()!.Order());
        Assert.Equal(400, missing.StatusCode);
        Assert.Equal("`roomName` is required.", missing.Text);
        Assert.Equal(404, notFound.StatusCode);
        var failure = Assert.Throws<RoomsRequestException>(() => missing.EnsureSuccess());
        Assert.Same(missing, failure.Response);
    }

    [Fact]
    public async Task OnDeliversTypedEventsUntilItsHandleIsDisposed()
    {
        await using var listener = await ConnectAsync();
        await using var sender = await ConnectAsync();
        var room = Unique.Room();
        (await listener.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();
        var news = new List<News>();
        var markers = new List<string>();
        var firstNews = Signal();
        var marker = Signal();
        var subscription = listener.On<News>("news", n =>
        {
            lock (news)
            {
                news.Add(n);
            }

            firstNews.TrySetResult();
        });
        using var markerSubscription = listener.On<string>("marker", m =>
        {
            markers.Add(m);
            marker.TrySetResult();
        });

        (await sender.PostAsync("/broadcastFunRoom", new { roomName = room, eventName = "news", data = new News("first", 1) })).EnsureSuccess();
        await firstNews.Task.WaitAsync(TestSocket.Timeout);
        subscription.Dispose();
        (await sender.PostAsync("/broadcastFunRoom", new { roomName = room, eventName = "news", data = new News("second", 2) })).EnsureSuccess();
        (await sender.PostAsync("/broadcastFunRoom", new { roomName = room, eventName = "marker", data = "after" })).EnsureSuccess();
        await marker.Task.WaitAsync(TestSocket.Timeout);

        Assert.Equal([new News("first", 1)], news);
        Assert.Equal(["after"], markers);
    }

    [Fact]
    public async Task ADroppedConnectionComesBackAsTheSameSocketWithItsHandlersAndWaitingRequests()
    {
        await using var client = await ConnectAsync();
        var reconnected = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += id =>
        {
            reconnected.TrySetResult(id);
            return Task.CompletedTask;
        };
        var reconnecting = Signal();
        client.Reconnecting += _ =>
        {
            reconnecting.TrySetResult();
            return Task.CompletedTask;
        };
        var pings = new List<JsonElement>();
        var ping = Signal();
        using var _ = client.On<JsonElement>("ping", p =>
        {
            pings.Add(p);
            ping.TrySetResult();
        });
        var before = client.SocketId!;

        fixture.Dropper.Drop(before);
        await reconnecting.Task.WaitAsync(TestSocket.Timeout);
        var during = client.GetAsync("/socketId"); // made while reconnecting: waits for the new connection
        var after = await reconnected.Task.WaitAsync(TestSocket.Timeout);

        Assert.Equal(before, after); // resumed: the server held the socket for its window
        Assert.Equal(before, client.SocketId);
        Assert.Equal(after, (await during.WaitAsync(TestSocket.Timeout)).As<string>());
        Assert.True(client.IsConnected);
        (await client.PostAsync("/broadcastFunRoom", new { roomName = after, eventName = "ping", data = new { n = 1 } })).EnsureSuccess();
        await ping.Task.WaitAsync(TestSocket.Timeout);
        Assert.Equal(1, Assert.Single(pings).GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task ARequestOnAClientThatIsNotConnectedFailsAtOnce()
    {
        await using var client = new RoomsClient(fixture.Server.BaseAddress);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync("/socketId"));

        Assert.Contains("ConnectAsync", error.Message);
        Assert.Null(client.SocketId);
    }

    private async Task<RoomsClient> ConnectAsync()
    {
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        return await RoomsClient.ConnectAsync(fixture.Server.BaseAddress, new RoomsClientOptions { RequestTimeout = TestSocket.Timeout }, timeout.Token);
    }

    private static TaskCompletionSource Signal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record MessageBody(string Message);

    private sealed record News(string Title, int Number);
}
