using System.Text.Json;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

[Collection(FrontEndCollection.Name)]
public sealed class DeliveryTests(FrontEndFixture fixture)
{
    [Fact]
    public async Task JoinThenBroadcastReachesAndAfterLeaveItDoesNot()
    {
        await using var member = await fixture.Server.ConnectAsync();
        await using var sender = await fixture.Server.ConnectAsync();
        var room = Unique.Room();
        member.Listen("news");

        await member.OkAsync("POST", "/joinFunRoom", new { roomName = room });
        await sender.OkAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "news", data = new { n = 1 } });
        await member.WaitForAsync("news", p => p.GetProperty("n").GetInt32() == 1);

        await member.OkAsync("POST", "/leaveFunRoom", new { roomName = room });
        await sender.OkAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "news", data = new { n = 2 } });
        await sender.OkAsync("POST", "/broadcastFunRoom", new { roomName = member.Id, eventName = "marker", data = "after-leave" });

        await member.WaitForMarkerAsync("after-leave");
        Assert.Single(member.ReceivedOf("news"));
    }

    [Fact]
    public async Task ALargeEventGoesToItsMemberAsOneWebSocketFrame()
    {
        // A pipe keeps a message in segments of 4 KB, and SignalR's transport sends each segment as a frame of its
        // own, one write to the socket each (WholeMessagePipe): 20 KB would be five frames.
        await using var member = await FrameSocket.ConnectAsync(fixture.Server.BaseAddress);
        await using var sender = await fixture.Server.ConnectAsync();
        var room = Unique.Room();
        await member.SendAsync($$$"""{"type":1,"invocationId":"1","target":"Request","arguments":[{"method":"POST","url":"/joinFunRoom","data":{"roomName":"{{{room}}}"}}]}""");
        await member.ReadUntilAsync(text => text.Contains("\"invocationId\":\"1\"", StringComparison.Ordinal));

        var data = new string('x', 20_000);
        await sender.OkAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "big", data });

        var first = await member.ReadUntilAsync(text => text.Contains("\"target\":\"big\"", StringComparison.Ordinal));

        Assert.True(first.Final);
        Assert.Contains(data + "\"]}\u001e", first.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExceptSelfLeavesOutTheSenderOnly()
    {
        await using var sender = await fixture.Server.ConnectAsync();
        await using var other = await fixture.Server.ConnectAsync();
        var room = Unique.Room();
        await sender.OkAsync("POST", "/joinFunRoom", new { roomName = room });
        await other.OkAsync("POST", "/joinFunRoom", new { roomName = room });

        await sender.OkAsync("POST", "/broadcastFunRoom", new { roomName = room, data = "hello", exceptSelf = true });
        await other.OkAsync("POST", "/broadcastFunRoom", new { roomName = sender.Id, eventName = "marker", data = "done" });

        await other.WaitForAsync("message", p => p.GetString() == "hello");
        await sender.WaitForMarkerAsync("done");
        Assert.Empty(sender.ReceivedOf("message"));
    }

    [Fact]
    public async Task BroadcastToASocketIdReachesThatSocketOnly()
    {
        await using var target = await fixture.Server.ConnectAsync();
        await using var bystander = await fixture.Server.ConnectAsync();

        await bystander.OkAsync("POST", "/broadcastFunRoom", new { roomName = target.Id, data = "for-you" });
        await target.OkAsync("POST", "/broadcastFunRoom", new { roomName = bystander.Id, eventName = "marker", data = "m" });

        await target.WaitForAsync("message", p => p.GetString() == "for-you");
        await bystander.WaitForMarkerAsync("m");
        Assert.Empty(bystander.ReceivedOf("message"));
    }

    [Fact]
    public async Task ASocketInSeveralTargetRoomsGetsOneCopy()
    {
        await using var socket = await fixture.Server.ConnectAsync();
        var rooms = new[] { Unique.Room(), Unique.Room(), Unique.Room() };
        foreach (var room in rooms)
        {
            await socket.OkAsync("POST", "/joinFunRoom", new { roomName = room });
        }

        await socket.OkAsync("POST", "/broadcastFunRoom", new { roomName = rooms.Append(socket.Id), data = "once" });
        await socket.OkAsync("POST", "/broadcastFunRoom", new { roomName = socket.Id, eventName = "marker", data = "m" });

        await socket.WaitForMarkerAsync("m");
        Assert.Single(socket.ReceivedOf("message"));
    }

    [Fact]
    public async Task FiftyBroadcastsArriveInTheOrderSent()
    {
        await using var member = await fixture.Server.ConnectAsync();
        await using var sender = await fixture.Server.ConnectAsync();
        var room = Unique.Room();
        member.Listen("seq");
        await member.OkAsync("POST", "/joinFunRoom", new { roomName = room });

        for (var i = 0; i < 50; i++)
        {
            await sender.OkAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "seq", data = i });
        }

        await member.WaitForAsync("seq", p => p.GetInt32() == 49);
        Assert.Equal(Enumerable.Range(0, 50), member.ReceivedOf("seq").Select(p => p.GetInt32()));
    }

    [Fact]
    public async Task BlastReachesEveryConnectedSocketAndExceptSelfLeavesOutTheSender()
    {
        await using var a = await fixture.Server.ConnectAsync();
        await using var b = await fixture.Server.ConnectAsync();
        var tag = Guid.NewGuid().ToString("N");
        a.Listen("blast");
        b.Listen("blast");

        await a.OkAsync("POST", "/blast", new { eventName = "blast", data = tag, exceptSelf = true });
        await b.OkAsync("POST", "/broadcastFunRoom", new { roomName = a.Id, eventName = "marker", data = tag });

        await b.WaitForAsync("blast", p => p.GetString() == tag);
        await a.WaitForMarkerAsync(tag);
        Assert.DoesNotContain(a.ReceivedOf("blast"), p => p.GetString() == tag);

        using var http = fixture.Server.Http();
        var plain = await http.PostAsync("/blast", JsonContent(new { eventName = "blast", data = tag + "-http" }));
        Assert.Equal(200, (int)plain.StatusCode);
        await a.WaitForAsync("blast", p => p.GetString() == tag + "-http");
    }

    [Fact]
    public async Task SocketIdAnswersTheSocketsOwnIdAndRefusesPlainHttp()
    {
        await using var socket = await fixture.Server.ConnectAsync();
        using var http = fixture.Server.Http();

        var reply = await socket.RequestAsync("GET", "/socketId");
        var plain = await http.GetAsync("/socketId");

        Assert.Equal(200, reply.StatusCode);
        Assert.Equal(socket.Id, reply.Body.GetString());
        Assert.Equal(400, (int)plain.StatusCode);
        Assert.Equal("This endpoints only supports socket requests.", await plain.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SocketRoomsListsOwnAndJoinedRoomsAnd404sForAnUnknownSocket()
    {
        await using var socket = await fixture.Server.ConnectAsync();
        await using var other = await fixture.Server.ConnectAsync();
        var room = Unique.Room();
        await socket.OkAsync("POST", "/joinFunRoom", new { roomName = room });

        var own = await socket.RequestAsync("GET", "/socketRooms");
        var byId = await other.RequestAsync("GET", $"/socketRooms?socketId={socket.Id}");
        var unknown = await other.RequestAsync("GET", "/socketRooms?socketId=nobody-here");

        Assert.Equal(new[] { socket.Id, room }.Order(), own.Strings.Order());
        Assert.Equal(own.Strings.Order(), byId.Strings.Order());
        Assert.Equal(404, unknown.StatusCode);
        Assert.Contains("nobody-here", unknown.Error);
    }

    [Fact]
    public async Task SubscribersReflectAJoinAsSoonAsItIsAnswered()
    {
        await using var reader = await fixture.Server.ConnectAsync();
        using var http = fixture.Server.Http();
        var room = Unique.Room();
        var sockets = new List<TestSocket>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                var socket = await fixture.Server.ConnectAsync();
                sockets.Add(socket);
                await socket.OkAsync("POST", "/joinFunRoom", new { roomName = room });

                var subscribers = await reader.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room });
                Assert.Equal(sockets.Select(s => s.Id).Order(), subscribers.Strings.Order());
            }

            var overHttp = await http.GetStringAsync($"/funRoomSubscribers?roomName={room}");
            Assert.Equal(sockets.Select(s => s.Id).Order(), JsonSerializer.Deserialize<string[]>(overHttp)!.Order());
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ParametersComeFromTheQueryAndFromAFormBodyToo()
    {
        await using var socket = await fixture.Server.ConnectAsync();
        var (room1, room2) = (Unique.Room(), Unique.Room());

        var byQuery = await socket.RequestAsync("POST", $"/joinFunRoom?roomName={room1}");
        var byForm = await socket.RequestAsync("POST", "/joinFunRoom", $"roomName={room2}", new Dictionary<string, string> { ["content-type"] = "application/x-www-form-urlencoded" });

        Assert.Equal($"Joined a fun room called {room1}!", byQuery.Message);
        Assert.Equal($"Joined a fun room called {room2}!", byForm.Message);
        Assert.Equal(new[] { socket.Id, room1, room2 }.Order(), (await socket.RequestAsync("GET", "/socketRooms")).Strings.Order());
    }

    [Fact]
    public async Task TheRootServesTheDemoPageBuiltOnRoomsJs()
    {
        using var http = fixture.Server.Http();

        var response = await http.GetAsync("/");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>Orleans.Rooms</title>", html);
        Assert.Contains("""<script src="/rooms.js"></script>""", html);
        Assert.Contains("io.socket.post('/joinFunRoom'", html);
    }

    private static StringContent JsonContent(object value)
        => new(JsonSerializer.Serialize(value), System.Text.Encoding.UTF8, "application/json");
}
