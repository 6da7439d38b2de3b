using Orleans.Rooms.Membership;
using Orleans.Rooms.Tests.Infrastructure;

namespace Orleans.Rooms.Tests.Membership;

[Collection(ClusterCollection.Name)]
public sealed class BroadcastTests(ClusterFixture fixture)
{
    private readonly IRoomService _api = fixture.Api(0);

    [Fact]
    public async Task BroadcastHandsOneBatchPerFrontEndWithEachMemberOnce()
    {
        await using var left = await fixture.FrontEnd();
        await using var right = await fixture.FrontEnd();
        await using var idle = await fixture.FrontEnd();
        var room1 = Unique.Room();
        var room2 = Unique.Room();
        var leftSockets = new[] { await left.ConnectAsync(), await left.ConnectAsync(), await left.ConnectAsync() };
        var rightSockets = new[] { await right.ConnectAsync(), await right.ConnectAsync() };
        var bystander = await idle.ConnectAsync();
        await _api.JoinAsync(leftSockets, room1);
        await _api.JoinAsync(leftSockets[..2], room2);
        await _api.JoinAsync(rightSockets, room2);

        await fixture.Api(1).BroadcastAsync([room1, room2], "news", new { text = "hi" });

        var leftBatch = Assert.Single(left.Batches);
        var rightBatch = Assert.Single(right.Batches);
        Assert.Empty(idle.Batches);
        Assert.Equal(leftSockets.Order(), leftBatch.Recipients.Order());
        Assert.Equal(rightSockets.Order(), rightBatch.Recipients.Order());
        Assert.Equal(leftBatch.Payload, rightBatch.Payload);
        foreach (var socket in leftSockets)
        {
            Assert.Equal(1, left.InboxOf(socket).Count("news", """{"text":"hi"}"""));
        }

        Assert.Empty(idle.InboxOf(bystander).Received);
    }

    [Fact]
    public async Task BroadcastWithoutEventNameUsesMessageAndLeavesOutTheExceptedSocket()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var sender = await frontEnd.ConnectAsync();
        var other = await frontEnd.ConnectAsync();
        var room = Unique.Room();
        await _api.JoinAsync(new[] { sender, other }, room);

        await _api.BroadcastAsync([room], null, "hello", except: sender);
        await _api.BroadcastAsync([sender], "marker", 1);

        await frontEnd.InboxOf(other).WaitForAsync("message", "\"hello\"");
        await frontEnd.InboxOf(sender).WaitForAsync("marker", "1");
        Assert.Equal(0, frontEnd.InboxOf(sender).Count("message", "\"hello\""));
    }

    [Fact]
    public async Task BroadcastAfterLeaveDoesNotReachTheSocket()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var leaver = await frontEnd.ConnectAsync();
        var stayer = await frontEnd.ConnectAsync();
        var room = Unique.Room();
        await _api.JoinAsync(new[] { leaver, stayer }, room);
        await _api.BroadcastAsync([room], "before", 1);

        await fixture.Api(2).LeaveAsync(leaver, room);
        await _api.BroadcastAsync([room], "after", 2);
        await _api.BroadcastAsync([leaver], "marker", 3);

        await frontEnd.InboxOf(leaver).WaitForAsync("marker", "3");
        await frontEnd.InboxOf(stayer).WaitForAsync("after", "2");
        Assert.Equal(["before", "marker"], frontEnd.InboxOf(leaver).Received.Select(r => r.Event));
    }

    [Fact]
    public async Task BroadcastsFromOneSenderArriveInSendOrder()
    {
        await using var near = await fixture.FrontEnd();
        await using var far = await fixture.FrontEnd();
        var a = await near.ConnectAsync();
        var b = await far.ConnectAsync();
        var room = Unique.Room();
        await _api.JoinAsync(new[] { a, b }, room);

        for (var i = 0; i < 50; i++)
        {
            await _api.BroadcastAsync([room], "seq", i);
        }

        await near.InboxOf(a).WaitForAsync("seq", "49");
        await far.InboxOf(b).WaitForAsync("seq", "49");
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i.ToString()), near.InboxOf(a).Received.Select(r => r.Payload));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i.ToString()), far.InboxOf(b).Received.Select(r => r.Payload));
    }

    [Fact]
    public async Task BroadcastToAnEmptyRoomDeliversNothingAndSucceeds()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();

        await _api.BroadcastAsync([Unique.Room()], "void", 1);

        Assert.Empty(frontEnd.Batches);
        Assert.Empty(frontEnd.InboxOf(socket).Received);
    }

    [Fact]
    public async Task BlastReachesEverySocketOnEveryFrontEndExceptTheExcepted()
    {
        await using var one = await fixture.FrontEnd();
        await using var two = await fixture.FrontEnd();
        var a = await one.ConnectAsync();
        var b = await one.ConnectAsync();
        var c = await two.ConnectAsync();
        var tag = Guid.NewGuid().ToString("N");

        await fixture.Api(2).BlastAsync("blast", tag, except: a);
        await _api.BroadcastAsync([a], "marker", tag);

        await one.InboxOf(b).WaitForAsync("blast", $"\"{tag}\"");
        await two.InboxOf(c).WaitForAsync("blast", $"\"{tag}\"");
        await one.InboxOf(a).WaitForAsync("marker", $"\"{tag}\"");
        Assert.Equal(0, one.InboxOf(a).Count("blast", $"\"{tag}\""));
        Assert.Equal(1, one.Batches.Count(batch => batch.EventName == "blast"));
    }
}
