using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>Every bad input of docs/protocol.md and docs/guarantees.md gets a 400 that says what was wrong, and the socket stays usable.</summary>
[Collection(FrontEndCollection.Name)]
public sealed class BadInputTests(FrontEndFixture fixture)
{
    private static readonly Dictionary<string, string> Admin = new() { ["x-admin-key"] = FrontEndServer.AdminKey };

    public static TheoryData<object?, string> MalformedEnvelopes => new()
    {
        { new { method = "POST", data = new { roomName = "x" } }, "`url` is required" },
        { new { method = "FETCH", url = "/joinFunRoom" }, "`method` must be one of" },
        { new { method = 5, url = "/joinFunRoom" }, "`method` must be a string" },
        { new { url = 42 }, "`url` must be a string" },
        { new { url = "http://elsewhere.example/joinFunRoom" }, "must be a path on this server" },
        { new { url = "//elsewhere.example/joinFunRoom" }, "must be a path on this server" },
        { new { url = "joinFunRoom" }, "must be a path on this server" },
        { new { url = "/join Fun" }, "must not contain spaces" },
        { new { url = "/joinFunRoom", headers = "x" }, "`headers` must be an object" },
        { new { url = "/joinFunRoom", headers = new { a = 1 } }, "`a` is a number" },
        { "just a string", "must be a JSON object" },
        { new[] { 1, 2 }, "must be a JSON object" },
        { null, "must be a JSON object" },
    };

    [Theory]
    [MemberData(nameof(MalformedEnvelopes))]
    public async Task AMalformedEnvelopeGets400AndTheSocketStaysUp(object? envelope, string reason)
    {
        await using var socket = await fixture.Server.ConnectAsync();

        var reply = await socket.RawRequestAsync(envelope);

        Assert.Equal(400, reply.StatusCode);
        Assert.Contains(reason, reply.Text);
        Assert.Equal(socket.Id, (await socket.RequestAsync("GET", "/socketId")).Body.GetString());
    }

    [Fact]
    public async Task ANameOrValueWithALoneSurrogateGets400AndTheSocketStaysUp()
    {
        // Raw JSON text: no .NET client can send it (a .NET string with a lone surrogate is not serializable), the escape in JSON can.
        using var socket = await RawSocket.ConnectAsync(fixture.Server.BaseAddress);
        var badName = await socket.InvokeRawAsync("Request", """[{"method":"POST","url":"/joinFunRoom","data":{"\ud800":1,"roomName":"r"}}]""");
        var badValue = await socket.InvokeRawAsync("Request", """[{"method":"POST","url":"/joinFunRoom","data":{"roomName":"\ud800"}}]""");

        Assert.Equal(400, badName.GetProperty("result").GetProperty("statusCode").GetInt32());
        Assert.Contains("lone surrogate", badName.GetRawText());
        Assert.Equal(400, badValue.GetProperty("result").GetProperty("statusCode").GetInt32());
        Assert.Contains("roomName", badValue.GetRawText());
        Assert.Equal(JsonValueKind.String, (await socket.RequestAsync(new { method = "GET", url = "/socketId" })).ValueKind); // its id: still served
    }

    [Fact]
    public async Task MethodsAreCaseInsensitiveAndDefaultToGet()
    {
        await using var socket = await fixture.Server.ConnectAsync();

        var lower = await socket.RequestAsync("post", "/joinFunRoom", new { roomName = "lower-case-" + Guid.NewGuid().ToString("N")[..6] });
        var defaulted = await socket.RawRequestAsync(new { url = "/socketId" });

        Assert.Equal(200, lower.StatusCode);
        Assert.Equal(socket.Id, defaulted.Body.GetString());
    }

    public static TheoryData<string, string, object, string> BadParameters => new()
    {
        { "POST", "/joinFunRoom", new { roomName = "" }, "roomName" },
        { "POST", "/joinFunRoom", new { roomName = new string('r', 257) }, "roomName" },
        { "POST", "/joinFunRoom", new { roomName = "bad\u0001name" }, "roomName" },
        { "POST", "/joinFunRoom", new { roomName = new { nested = true } }, "roomName" },
        { "POST", "/leaveFunRoom", new { roomName = "tab\tname" }, "roomName" },
        { "POST", "/broadcastFunRoom", new { roomName = "ok", eventName = "" }, "eventName" },
        { "POST", "/broadcastFunRoom", new { roomName = "ok", eventName = new string('e', 129) }, "eventName" },
        { "POST", "/broadcastFunRoom", new { roomName = new[] { "ok", "" } }, "roomName" },
        { "POST", "/broadcastFunRoom", new { roomName = "ok", exceptSelf = "maybe" }, "exceptSelf" },
        { "POST", "/blast", new { eventName = "bell\a" }, "eventName" },
        { "GET", "/funRoomSubscribers", new { roomName = "" }, "roomName" },
        { "POST", "/kickFromFunRoom", new { roomName = "ok" }, "socketId" },
        { "POST", "/rooms/addMembers", new { sourceRoom = "ok" }, "destRooms" },
        { "POST", "/rooms/addMembers", new { destRooms = new[] { "ok" } }, "sourceRoom" },
        { "POST", "/rooms/removeMembers", new { sourceRoom = "ok", destRooms = new[] { 1 } }, "destRooms" },
        { "POST", "/rooms/leaveAll", new { roomName = "ok", includeSocketRooms = "perhaps" }, "includeSocketRooms" },
        { "GET", "/rooms", new { limit = 0 }, "limit" },
        { "GET", "/rooms", new { limit = "many" }, "limit" },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public async Task ABadParameterGets400NamingItAndChangesNothing(string method, string url, object data, string parameter)
    {
        await using var socket = await fixture.Server.ConnectAsync();

        var reply = await socket.RequestAsync(method, url, data, Admin);

        Assert.Equal(400, reply.StatusCode);
        Assert.Contains(parameter, reply.Error);
        Assert.Equal([socket.Id], (await socket.RequestAsync("GET", "/socketRooms")).Strings);
    }

    [Fact]
    public async Task EveryRouteWithRoomNameAnswersTheSeedTextWhenItIsMissing()
    {
        await using var socket = await fixture.Server.ConnectAsync();
        var routes = new[] { ("POST", "/joinFunRoom"), ("POST", "/leaveFunRoom"), ("POST", "/broadcastFunRoom"), ("GET", "/funRoomSubscribers"), ("POST", "/kickFromFunRoom"), ("POST", "/rooms/leaveAll") };

        foreach (var (method, url) in routes)
        {
            var reply = await socket.RequestAsync(method, url, new { socketId = socket.Id }, Admin);
            Assert.Equal(400, reply.StatusCode);
            Assert.Equal("`roomName` is required.", reply.Text);
        }
    }

    [Fact]
    public async Task JoinOverPlainHttpAndExceptSelfOverPlainHttpAre400()
    {
        using var http = fixture.Server.Http();

        var join = await http.PostAsync("/joinFunRoom", Json("""{"roomName":"fun"}"""));
        var except = await http.PostAsync("/broadcastFunRoom", Json("""{"roomName":"fun","exceptSelf":true}"""));
        var badJson = await http.PostAsync("/joinFunRoom", Json("""{"roomName":"""));

        Assert.Equal("This endpoints only supports socket requests.", await join.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, except.StatusCode);
        Assert.Contains("exceptSelf", await except.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
        Assert.Contains("not valid JSON", await badJson.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task JoiningPastTheRoomLimitIsReportedAndJoinsNothing()
    {
        await using var server = await FrontEndServer.StartAsync("limit-" + Guid.NewGuid().ToString("N")[..8], configure: builder =>
            builder.Configuration["Rooms:MaxRoomsPerSocket"] = "3");
        await using var socket = await server.ConnectAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await socket.RequestAsync("POST", "/joinFunRoom", new { roomName = $"r{i}" })).StatusCode);
        }

        var reply = await socket.RequestAsync("POST", "/joinFunRoom", new { roomName = "r3" });

        Assert.Equal(400, reply.StatusCode);
        Assert.Contains("MaxRoomsPerSocket", reply.Error);
        Assert.Equal(4, (await socket.RequestAsync("GET", "/socketRooms")).Strings.Length);
    }

    [Fact]
    public async Task ARequestOverTheHubSizeLimitFailsThatSocketOnly()
    {
        await using var big = await fixture.Server.ConnectAsync();
        await using var other = await fixture.Server.ConnectAsync();

        // SignalR refuses a frame over its receive limit (32 KB) by closing that connection: the request fails
        // at once with the server's close, not with the client's request time-out (which would also throw).
        var took = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<HubException>(() => big.RequestAsync("POST", "/broadcastFunRoom", new { roomName = other.Id, data = new string('x', 64 * 1024) }));
        var closedWith = await big.Closed.WaitAsync(TestSocket.Timeout);

        Assert.Contains("The server closed the connection", failure.Message);
        Assert.True(took.Elapsed < TestSocket.Timeout / 2, $"the oversized request failed only after {took.Elapsed}");
        Assert.IsType<HubException>(closedWith);
        Assert.Equal(HubConnectionState.Disconnected, big.State);
        Assert.Equal(200, (await other.RequestAsync("GET", "/socketId")).StatusCode);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
