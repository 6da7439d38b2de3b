using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>A socket that goes away, however it goes, leaves every room.</summary>
[Collection(FrontEndCollection.Name)]
public sealed class DisconnectTests(FrontEndFixture fixture)
{

    [Fact]
    public async Task ACleanDisconnectLeavesEveryRoom()
    {
        await using var observer = await fixture.Server.ConnectAsync();
        var leaver = await fixture.Server.ConnectAsync();
        var (room1, room2) = (Unique.Room(), Unique.Room());
        await leaver.RequestAsync("POST", "/joinFunRoom", new { roomName = room1 });
        await leaver.RequestAsync("POST", "/joinFunRoom", new { roomName = room2 });
        await observer.RequestAsync("POST", "/joinFunRoom", new { roomName = room2 });
        var id = leaver.Id;

        await leaver.DisposeAsync();

        await Eventually.HoldsAsync(async () => (await observer.RequestAsync("GET", $"/socketRooms?socketId={id}")).StatusCode == 404, $"socket {id} unregistered");
        Assert.Empty((await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room1 })).Strings);
        Assert.Equal([observer.Id], (await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room2 })).Strings);
        Assert.Empty((await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = id })).Strings);
    }

    [Fact]
    public async Task AnAbortedConnectionLeavesEveryRoom()
    {
        await using var observer = await fixture.Server.ConnectAsync();
        using var raw = await RawSocket.ConnectAsync(fixture.Server.BaseAddress);
        var room = Unique.Room();
        var id = (await raw.RequestAsync(new { url = "/socketId" })).GetString()!;
        var joined = await raw.RequestAsync(new { method = "POST", url = "/joinFunRoom", data = new { roomName = room } });
        Assert.Equal($"Joined a fun room called {room}!", joined.GetProperty("message").GetString());
        Assert.Equal([id], (await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings);

        raw.Abort();

        await Eventually.HoldsAsync(async () => (await observer.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings.Length == 0, $"aborted socket {id} left {room}");
        Assert.Equal(404, (await observer.RequestAsync("GET", $"/socketRooms?socketId={id}")).StatusCode);
    }

    // Once bounded by the count of pending messages, once by their bytes (16 messages of 256 KB), the other
    // bound out of reach each time.
    [Theory]
    [InlineData("16", "1000000000")]
    [InlineData("1000000", "4194304")]
    public async Task AClientThatStopsReadingIsDroppedWhileTheOthersGetEverything(string maxPendingMessages, string maxPendingBytes)
    {
        await using var server = await FrontEndServer.StartAsync("slow-" + Guid.NewGuid().ToString("N")[..8], settings: new Dictionary<string, string?>
        {
            ["Rooms:Limits:MaxPendingMessagesPerSocket"] = maxPendingMessages,
            ["Rooms:Limits:MaxPendingBytesPerSocket"] = maxPendingBytes,
            ["Rooms:Limits:MaxBroadcastPayloadBytes"] = "300000",
        });
        using var slow = await RawSocket.ConnectAsync(server.BaseAddress);
        await using var fast = await server.ConnectAsync();
        var room = Unique.Room();
        var slowId = (await slow.RequestAsync(new { url = "/socketId" })).GetString()!;
        await slow.RequestAsync(new { method = "POST", url = "/joinFunRoom", data = new { roomName = room } });
        await fast.RequestAsync("POST", "/joinFunRoom", new { roomName = room });
        fast.Listen("big");
        using var http = server.Http();
        var payload = new string('p', 256 * 1024);

        // The slow socket never reads again: once the kernel and transport buffers are full its writes stay
        // pending, and past the bound it is disconnected. The fast one reads each message before the next
        // is sent, so it never has more than one pending, and must get every message regardless.
        const int count = 150;
        for (var i = 0; i < count; i++)
        {
            var response = await http.PostAsJsonAsync("/broadcastFunRoom", new { roomName = room, eventName = "big", data = new { i, payload } });
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            var sent = i;
            await fast.WaitForAsync("big", p => p.GetProperty("i").GetInt32() == sent);
        }

        Assert.Equal(Enumerable.Range(0, count), fast.ReceivedOf("big").Select(p => p.GetProperty("i").GetInt32()));
        await Eventually.HoldsAsync(async () => !(await fast.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings.Contains(slowId), $"slow socket {slowId} dropped");
        Assert.Equal(HubConnectionState.Connected, fast.State);
    }
}
