using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orleans.Rooms.Membership;
using Orleans.Rooms.VirtualRequests;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// An app's own routes over <see cref="IRoomService"/>, with no error handling of their own: the library answers its
/// refusals itself (a bad room name, a request that is not a socket request: 400; an unknown socket: 404; as
/// ProblemDetails naming what was wrong), over a socket and over HTTP; and an <c>except</c> of null means nobody.
/// On the previous main each of these answered 500 (or threw ArgumentNullException for the null).
/// </summary>
public sealed class LibraryErrorTests(LibraryErrorTests.AppWithPlainRoutes fixture) : IClassFixture<LibraryErrorTests.AppWithPlainRoutes>
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
