using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>Two front ends on one two-silo cluster: membership and delivery do not care where a socket lives.</summary>
public sealed class TwoFrontEndsTests(TwoFrontEndsFixture fixture) : IClassFixture<TwoFrontEndsFixture>
{
    private static readonly Dictionary<string, string> Admin = new() { ["x-admin-key"] = FrontEndServer.AdminKey };

    [Fact]
    public async Task ASocketOnAKickedByIdFromBStopsReceiving()
    {
        await using var onA = await fixture.A.ConnectAsync();
        await using var adminOnB = await fixture.B.ConnectAsync();
        var room = Unique.Room();
        onA.Listen("news");
        await onA.RequestAsync("POST", "/joinFunRoom", new { roomName = room });
        await adminOnB.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "news", data = "before" });
        await onA.WaitForAsync("news", p => p.GetString() == "before");

        var kick = await adminOnB.RequestAsync("POST", "/kickFromFunRoom", new { socketId = onA.Id, roomName = room }, Admin);
        await adminOnB.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "news", data = "after" });
        await adminOnB.RequestAsync("POST", "/broadcastFunRoom", new { roomName = onA.Id, eventName = "marker", data = "end" });

        Assert.Equal(200, kick.StatusCode);
        Assert.Equal($"Kicked {onA.Id} from {room}!", kick.Message);
        await onA.WaitForMarkerAsync("end");
        Assert.Equal(["before"], onA.ReceivedOf("news").Select(p => p.GetString()));
    }

    [Fact]
    public async Task ABroadcastFromAReachesSocketsOnBAndABlastReachesBoth()
    {
        await using var senderOnA = await fixture.A.ConnectAsync();
        await using var memberOnA = await fixture.A.ConnectAsync();
        await using var memberOnB = await fixture.B.ConnectAsync();
        var room = Unique.Room();
        await memberOnA.RequestAsync("POST", "/joinFunRoom", new { roomName = room });
        await memberOnB.RequestAsync("POST", "/joinFunRoom", new { roomName = room });
        var tag = Guid.NewGuid().ToString("N");

        await senderOnA.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, data = tag });
        await senderOnA.RequestAsync("POST", "/blast", new { eventName = "marker", data = tag });

        await memberOnB.WaitForAsync("message", p => p.GetString() == tag);
        await memberOnA.WaitForAsync("message", p => p.GetString() == tag);
        await memberOnB.WaitForMarkerAsync(tag);
        await senderOnA.WaitForMarkerAsync(tag);
        Assert.Empty(senderOnA.ReceivedOf("message"));
    }

    [Fact]
    public async Task SubscribersAskedOnBListSocketsOfAAndAKickOfAnUnknownIdIs404()
    {
        await using var onA1 = await fixture.A.ConnectAsync();
        await using var onA2 = await fixture.A.ConnectAsync();
        await using var onB = await fixture.B.ConnectAsync();
        var room = Unique.Room();
        await onA1.RequestAsync("POST", "/joinFunRoom", new { roomName = room });
        await onA2.RequestAsync("POST", "/joinFunRoom", new { roomName = room });

        var subscribers = await onB.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room });
        var roomsOfA1 = await onB.RequestAsync("GET", $"/socketRooms?socketId={onA1.Id}");
        var unknown = await onB.RequestAsync("POST", "/kickFromFunRoom", new { socketId = "nobody", roomName = room }, Admin);

        Assert.Equal(new[] { onA1.Id, onA2.Id }.Order(), subscribers.Strings.Order());
        Assert.Equal(new[] { onA1.Id, room }.Order(), roomsOfA1.Strings.Order());
        Assert.Equal(404, unknown.StatusCode);
    }
}
