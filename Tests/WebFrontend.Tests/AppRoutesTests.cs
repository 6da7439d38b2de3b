using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Orleans.Rooms.Membership;
using Orleans.Rooms.VirtualRequests;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// An app's own routes over <see cref="IRoomService"/>, with no error handling of their own: the library answers its
/// refusals itself (a bad room name, a request that is not a socket request: 400; an unknown socket: 404; as
/// ProblemDetails naming what was wrong), over a socket and over HTTP; and an <c>except</c> of null means nobody.
/// A GET's data arrive as query parameters, as sails.io.js users expect (<c>[FromQuery]</c> binds them).
/// On the previous main each of these answered 500 (or threw ArgumentNullException for the null), and the GET's
/// data went in as a body (400 "The roomName field is required.").
/// </summary>
public sealed class AppRoutesTests(AppRoutesTests.AppWithPlainRoutes fixture) : IClassFixture<AppRoutesTests.AppWithPlainRoutes>
{
    [Fact]
    public async Task AnEmptyRoomNameOverASocketIs400NamingItAndJoinsNothing()
    {
        await using var socket = await fixture.Server.ConnectAsync();
        var answer = await socket.RequestAsync("POST", "/plain/join-empty");

        Assert.Equal(400, answer.StatusCode);
        Assert.Contains("must not be empty", answer.Body.GetProperty("detail").GetString());
        Assert.Equal([socket.Id], (await socket.RequestAsync("GET", "/socketRooms")).As<string[]>()!);
    }

    [Fact]
    public async Task AJoinOfTheCurrentSocketOverPlainHttpIs400()
    {
        using var http = fixture.Server.Http();
        using var answer = await http.PostAsync("/plain/join-empty", null);
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AnUnknownSocketIs404NamingIt()
    {
        using var http = fixture.Server.Http();
        using var answer = await http.GetAsync("/plain/rooms-of-unknown");
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        var problem = await answer.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("no-such-socket", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task AnExceptOfNullLeavesNobodyOut()
    {
        await using var member = await fixture.Server.ConnectAsync();
        member.Listen("plain");
        var room = Unique.Room();
        Assert.Equal(200, (await member.RequestAsync("POST", "/joinFunRoom", new { roomName = room })).StatusCode);

        using var http = fixture.Server.Http();
        using var answer = await http.PostAsync($"/plain/broadcast?room={room}", null);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        await member.WaitForAsync("plain");
    }

    [Fact]
    public async Task AGetsDataAreQueryParametersOverASocketAsOverHttp()
    {
        await using var socket = await fixture.Server.ConnectAsync();
        var viaSocket = await socket.Client.GetAsync("/plain/who?x=1", new { roomName = "fun room", n = 3, tags = new[] { "a", "b" }, none = (string?)null });
        using var http = fixture.Server.Http();
        var viaHttp = await http.GetFromJsonAsync<JsonElement>("/plain/who?x=1&roomName=fun%20room&n=3&tags=a&tags=b");

        Assert.Equal(200, viaSocket.StatusCode);
        Assert.Equal(viaHttp.GetRawText(), viaSocket.Body.GetRawText());
        Assert.Equal("fun room", viaSocket.Body.GetProperty("roomName").GetString());
        Assert.Equal(3, viaSocket.Body.GetProperty("n").GetInt32());
        Assert.Equal(["a", "b"], viaSocket.Body.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    /// <summary>A front end with routes that call <see cref="IRoomService"/> and handle no error themselves.</summary>
    public sealed class AppWithPlainRoutes : IAsyncLifetime
    {
        public FrontEndServer Server { get; private set; } = null!;

        public async Task InitializeAsync() => Server = await FrontEndServer.StartAsync("library-errors-" + Guid.NewGuid().ToString("N")[..8], map: app =>
        {
            app.MapPost("/plain/join-empty", async (HttpContext http, IRoomService rooms) =>
            {
                await rooms.JoinAsync(http, string.Empty);
                return Results.Ok();
            });
            app.MapGet("/plain/who", ([FromQuery] string roomName, [FromQuery] int n, [FromQuery] string[] tags, [FromQuery] int x) => Results.Ok(new { roomName, n, tags, x }));
            app.MapGet("/plain/rooms-of-unknown", async (IRoomService rooms) => Results.Ok(await rooms.SocketRoomsAsync("no-such-socket")));
            app.MapPost("/plain/broadcast", async (HttpContext http, IRoomService rooms, string room) =>
            {
                await rooms.BroadcastAsync([room], "plain", "hi", except: http.IsSocketRequest() ? http : null);
                return Results.Ok();
            });
        });

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }
}
