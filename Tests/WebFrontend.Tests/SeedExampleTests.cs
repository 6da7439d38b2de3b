using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Rooms.Membership;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>The seed's leaveFunRoom, branch by branch, byte for byte.</summary>
[Collection(FrontEndCollection.Name)]
public sealed class SeedExampleTests(FrontEndFixture fixture)
{
    [Fact]
    public async Task LeaveFunRoomWithoutRoomNameAnswers400RoomNameIsRequired()
    {
        await using var socket = await fixture.Server.ConnectAsync();

        var reply = await socket.Client.PostAsync("/leaveFunRoom", new { });

        Assert.Equal(400, reply.StatusCode);
        Assert.Equal("`roomName` is required.", reply.Text);
    }

    [Fact]
    public async Task LeaveFunRoomOverPlainHttpAnswers400SocketRequestsOnly()
    {
        using var http = fixture.Server.Http();

        var response = await http.PostAsJsonAsync("/leaveFunRoom", new { roomName = "fun" });
        var missing = await http.PostAsJsonAsync("/leaveFunRoom", new { });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("This endpoints only supports socket requests.", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("`roomName` is required.", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LeaveFunRoomLeavesTheRequestingSocketAndSaysSo()
    {
        await using var socket = await fixture.Server.ConnectAsync();
        await using var other = await fixture.Server.ConnectAsync();
        var room = "fun-" + Guid.NewGuid().ToString("N")[..8];
        (await socket.Client.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();
        (await other.Client.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();

        var reply = await socket.Client.PostAsync("/leaveFunRoom", new { roomName = room });

        Assert.Equal(200, reply.StatusCode);
        Assert.Equal($$"""{"message":"Left a fun room called {{room}}!"}""", reply.Body.GetRawText());
        Assert.Equal($"Left a fun room called {room}!", reply.As<MessageBody>()!.Message);
        Assert.StartsWith("application/json", reply.Headers["content-type"]);
        var subscribers = await other.Client.GetAsync($"/funRoomSubscribers?roomName={room}");
        Assert.Equal([other.Id], subscribers.As<string[]>()!);
    }

    [Fact]
    public async Task LeaveFunRoomAnswers500WhenTheLeaveFails()
    {
        await using var server = await FrontEndServer.StartAsync("failing-" + Guid.NewGuid().ToString("N")[..8], configure: builder =>
            builder.Services.Replace(ServiceDescriptor.Singleton<IRoomService>(sp => new FailingLeave(ActivatorUtilities.CreateInstance<RoomService>(sp)))));
        await using var socket = await server.ConnectAsync();

        var reply = await socket.Client.PostAsync("/leaveFunRoom", new { roomName = "doomed" });

        // What failed, in words for a client, and an id to find the details in the log; not the exception's message.
        // A time-out is the cluster healing: the answer says the call may be repeated as it is.
        Assert.Equal(500, reply.StatusCode);
        Assert.StartsWith("The cluster is healing", reply.Error);
        Assert.True(reply.Body.GetProperty("retryable").GetBoolean());
        Assert.Equal("1", reply.Headers["retry-after"]);
        Assert.False(string.IsNullOrEmpty(reply.Body.GetProperty("id").GetString()));
        Assert.DoesNotContain(FailingLeave.Reason, reply.Body.GetRawText());
        Assert.Equal(socket.Id, (await socket.Client.GetAsync("/socketId")).As<string>());
    }

    private sealed record MessageBody(string Message);

    /// <summary>The real room service, except that leaving fails as a silo outage would make it.</summary>
    private sealed class FailingLeave(IRoomService inner) : IRoomService
    {
        public const string Reason = "The silo that owns the membership is unavailable.";

        public Task LeaveAsync(SocketTarget sockets, string room, CancellationToken cancellationToken = default)
            => Task.FromException(new TimeoutException(Reason));

        public Task JoinAsync(SocketTarget sockets, string room, CancellationToken cancellationToken = default) => inner.JoinAsync(sockets, room, cancellationToken);

        public Task LeaveAllAsync(string room, LeaveAllOptions? options = null, CancellationToken cancellationToken = default) => inner.LeaveAllAsync(room, options, cancellationToken);

        public Task AddRoomMembersToRoomsAsync(string sourceRoom, IEnumerable<string> destRooms, CancellationToken cancellationToken = default) => inner.AddRoomMembersToRoomsAsync(sourceRoom, destRooms, cancellationToken);

        public Task RemoveRoomMembersFromRoomsAsync(string sourceRoom, IEnumerable<string> destRooms, CancellationToken cancellationToken = default) => inner.RemoveRoomMembersFromRoomsAsync(sourceRoom, destRooms, cancellationToken);

        public Task BroadcastAsync(IEnumerable<string> rooms, string? eventName, object? data, SocketTarget? except = null, CancellationToken cancellationToken = default) => inner.BroadcastAsync(rooms, eventName, data, except, cancellationToken);

        public Task BlastAsync(string? eventName, object? data, SocketTarget? except = null, CancellationToken cancellationToken = default) => inner.BlastAsync(eventName, data, except, cancellationToken);

        public string GetId(Microsoft.AspNetCore.Http.HttpContext request) => inner.GetId(request);

        public Task<IReadOnlyList<string>> SubscribersAsync(string room, CancellationToken cancellationToken = default) => inner.SubscribersAsync(room, cancellationToken);

        public Task<IReadOnlyList<string>> SocketRoomsAsync(SocketTarget socket, CancellationToken cancellationToken = default) => inner.SocketRoomsAsync(socket, cancellationToken);

        public Task<RoomPage> RoomsAsync(string? after = null, int limit = RoomPage.DefaultLimit, CancellationToken cancellationToken = default) => inner.RoomsAsync(after, limit, cancellationToken);

        public Task TrackAsync(SocketTarget socket, string room, string? key = null, object? meta = null, CancellationToken cancellationToken = default) => inner.TrackAsync(socket, room, key, meta, cancellationToken);

        public Task UntrackAsync(SocketTarget socket, string room, CancellationToken cancellationToken = default) => inner.UntrackAsync(socket, room, cancellationToken);

        public Task UpdatePresenceAsync(SocketTarget socket, string room, object? meta, CancellationToken cancellationToken = default) => inner.UpdatePresenceAsync(socket, room, meta, cancellationToken);

        public Task<Presence.RoomPresence> PresenceAsync(string room, CancellationToken cancellationToken = default) => inner.PresenceAsync(room, cancellationToken);
    }
}
