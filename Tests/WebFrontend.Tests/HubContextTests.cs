using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Client;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// What an app sends through SignalR's own <see cref="IHubContext{THub}"/> means what the room service means:
/// groups are rooms, cluster-wide, and every send reaches resumable sockets (both of the project's clients) as
/// numbered events, on whichever front end they are.
/// </summary>
public sealed class HubContextTests(TwoFrontEndsFixture fixture) : IClassFixture<TwoFrontEndsFixture>
{
    private IHubContext<SocketHub> HubOf(FrontEndServer frontEnd) => frontEnd.Services.GetRequiredService<IHubContext<SocketHub>>();

    [Fact]
    public async Task GroupsAreRoomsAcrossFrontEndsAndAGroupSendReachesPlainAndResumableMembers()
    {
        await using var plainOnA = await fixture.A.ConnectAsync();
        await using var resumableOnB = await Resumable.ConnectAsync(fixture.B);
        var room = Unique.Room();
        plainOnA.Listen("news");

        await HubOf(fixture.A).Groups.AddToGroupAsync(plainOnA.Id, room);
        await HubOf(fixture.A).Groups.AddToGroupAsync(resumableOnB.Id, room); // a socket of the other front end
        var subscribers = await fixture.B.Services.GetRequiredService<IRoomService>().SubscribersAsync(room);
        await HubOf(fixture.B).Clients.Group(room).SendAsync("news", "to both");

        Assert.Equal(new[] { plainOnA.Id, resumableOnB.Id }.Order(), subscribers.Order());
        await plainOnA.WaitForAsync("news", p => p.GetString() == "to both");
        await resumableOnB.WaitForAsync("news", "to both");

        await HubOf(fixture.A).Groups.RemoveFromGroupAsync(resumableOnB.Id, room);
        await HubOf(fixture.B).Clients.Group(room).SendAsync("news", "after");
        await HubOf(fixture.B).Clients.Client(resumableOnB.Id).SendAsync("marker", "end");
        await plainOnA.WaitForAsync("news", p => p.GetString() == "after");
        await resumableOnB.WaitForAsync("marker", "end");
        Assert.Equal(["to both"], resumableOnB.ReceivedOf("news"));
    }

    [Fact]
    public async Task ClientsAllReachesResumableSocketsOnEveryFrontEndAndAllExceptLeavesOneOut()
    {
        await using var resumableOnA = await Resumable.ConnectAsync(fixture.A);
        await using var resumableOnB = await Resumable.ConnectAsync(fixture.B);
        await using var plainOnB = await fixture.B.ConnectAsync();
        plainOnB.Listen("all");
        var tag = Guid.NewGuid().ToString("N");

        await HubOf(fixture.A).Clients.All.SendAsync("all", tag);
        await HubOf(fixture.B).Clients.AllExcept([resumableOnA.Id]).SendAsync("all", tag + "-except");
        await HubOf(fixture.B).Clients.Clients([resumableOnA.Id]).SendAsync("marker", tag);

        await resumableOnA.WaitForAsync("all", tag);
        await resumableOnB.WaitForAsync("all", tag);
        await plainOnB.WaitForAsync("all", p => p.GetString() == tag);
        await resumableOnB.WaitForAsync("all", tag + "-except");
        await resumableOnA.WaitForAsync("marker", tag);
        Assert.DoesNotContain(tag + "-except", resumableOnA.ReceivedOf("all"));
    }

    [Fact]
    public async Task GroupsAndGroupExceptSendOncePerSocketAcrossRooms()
    {
        await using var inBoth = await Resumable.ConnectAsync(fixture.B);
        await using var inOne = await Resumable.ConnectAsync(fixture.A);
        var (first, second) = (Unique.Room(), Unique.Room());
        var hub = HubOf(fixture.A);
        await hub.Groups.AddToGroupAsync(inBoth.Id, first);
        await hub.Groups.AddToGroupAsync(inBoth.Id, second);
        await hub.Groups.AddToGroupAsync(inOne.Id, second);

        await hub.Clients.Groups([first, second]).SendAsync("news", "once");
        await hub.Clients.GroupExcept(second, [inOne.Id]).SendAsync("news", "not to inOne");
        await hub.Clients.Client(inOne.Id).SendAsync("marker", "end");
        await hub.Clients.Client(inBoth.Id).SendAsync("marker", "end");

        await inOne.WaitForAsync("marker", "end");
        await inBoth.WaitForAsync("marker", "end");
        Assert.Equal(["once", "not to inOne"], inBoth.ReceivedOf("news"));
        Assert.Equal(["once"], inOne.ReceivedOf("news"));
    }

    [Fact]
    public async Task WhatHasNoRoomEquivalentThrowsNamingWhatToUseInstead()
    {
        var hub = HubOf(fixture.A);

        var user = await Assert.ThrowsAsync<NotSupportedException>(() => hub.Clients.User("alice").SendAsync("news", "hi"));
        var users = await Assert.ThrowsAsync<NotSupportedException>(() => hub.Clients.Users(["alice"]).SendAsync("news", "hi"));
        var twoArguments = await Assert.ThrowsAsync<ArgumentException>(() => hub.Clients.All.SendAsync("news", "a", "b"));
        var badRoom = await Assert.ThrowsAsync<ArgumentException>(() => hub.Groups.AddToGroupAsync("someone", ""));
        var unknown = await Assert.ThrowsAsync<SocketNotFoundException>(() => hub.Groups.AddToGroupAsync("nobody-" + Guid.NewGuid().ToString("N"), Unique.Room()));

        Assert.Contains("Clients.Group", user.Message, StringComparison.Ordinal);
        Assert.Contains("Clients.Group", users.Message, StringComparison.Ordinal);
        Assert.Contains("one argument", twoArguments.Message, StringComparison.Ordinal);
        Assert.Equal("room", badRoom.ParamName);
        Assert.Contains("nobody-", unknown.Message, StringComparison.Ordinal);
    }

    /// <summary>A socket of the project's .NET client as it connects by default: resumable, so its events come numbered.</summary>
    private sealed class Resumable : IAsyncDisposable
    {
        private readonly RoomsClient _client;
        private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _received = new(StringComparer.Ordinal);
        private readonly List<(string Event, string Payload, TaskCompletionSource Done)> _waiters = [];

        private Resumable(RoomsClient client) => _client = client;

        public string Id => _client.SocketId!;

        public static async Task<Resumable> ConnectAsync(FrontEndServer frontEnd)
        {
            var client = new RoomsClient(frontEnd.BaseAddress, new RoomsClientOptions { RequestTimeout = TestSocket.Timeout });
            var socket = new Resumable(client);
            foreach (var name in new[] { "news", "all", "marker" })
            {
                client.On<string>(name, payload => socket.Add(name, payload));
            }

            using var timeout = new CancellationTokenSource(TestSocket.Timeout);
            await client.ConnectAsync(timeout.Token);
            Assert.True(client.ResumeWindow > TimeSpan.Zero, "the client connected as a plain socket, not a resumable one");
            return socket;
        }

        public IReadOnlyList<string> ReceivedOf(string eventName) => _received.TryGetValue(eventName, out var queue) ? [.. queue] : [];

        public async Task WaitForAsync(string eventName, string payload)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waiters)
            {
                if (ReceivedOf(eventName).Contains(payload))
                {
                    return;
                }

                _waiters.Add((eventName, payload, done));
            }

            try
            {
                await done.Task.WaitAsync(TestSocket.Timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"Socket {Id} got no '{eventName}' event {payload} within {TestSocket.Timeout}; it got {string.Join(", ", ReceivedOf(eventName))}.");
            }
        }

        public ValueTask DisposeAsync() => _client.DisposeAsync();

        private void Add(string eventName, string payload)
        {
            lock (_waiters)
            {
                _received.GetOrAdd(eventName, _ => new()).Enqueue(payload);
                foreach (var waiter in _waiters.Where(w => w.Event == eventName && w.Payload == payload).ToArray())
                {
                    waiter.Done.TrySetResult();
                    _waiters.Remove(waiter);
                }
            }
        }
    }
}
