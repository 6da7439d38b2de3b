using System.Net;
using System.Net.Http.Json;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

[Collection(FrontEndCollection.Name)]
public sealed class AdminRouteTests(FrontEndFixture fixture)
{
    private static readonly Dictionary<string, string> Admin = new() { ["x-admin-key"] = FrontEndServer.AdminKey };
    private static readonly Dictionary<string, string> WrongKey = new() { ["x-admin-key"] = "not-the-key" };

    public static TheoryData<string, string> AdminRoutes => new()
    {
        { "POST", "/kickFromFunRoom" },
        { "POST", "/rooms/addMembers" },
        { "POST", "/rooms/removeMembers" },
        { "POST", "/rooms/leaveAll" },
        { "GET", "/rooms" },
    };

    [Theory]
    [MemberData(nameof(AdminRoutes))]
    public async Task AdminRoutesAnswer403WithoutTheKeyOrWithAWrongOneAndChangeNothing(string method, string url)
    {
        await using var socket = await fixture.Server.ConnectAsync();
        var room = Unique.Room();
        await socket.RequestAsync("POST", "/joinFunRoom", new { roomName = room });
        var data = new { socketId = socket.Id, roomName = room, sourceRoom = room, destRooms = new[] { "elsewhere" } };

        var without = await socket.RequestAsync(method, url, data);
        var wrong = await socket.RequestAsync(method, url, data, WrongKey);
        using var http = fixture.Server.Http();
        var plain = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), url) { Content = JsonContent.Create(data) });

        Assert.Equal(403, without.StatusCode);
        Assert.Equal(403, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);
        Assert.Contains("x-admin-key", wrong.Error);
        Assert.Equal(new[] { socket.Id, room }.Order(), (await socket.RequestAsync("GET", "/socketRooms")).Strings.Order());
    }

    [Fact]
    public async Task AdminRoutesAnswer403WhenNoKeyIsConfiguredWhateverTheHeader()
    {
        await using var server = await FrontEndServer.StartAsync("nokey-" + Guid.NewGuid().ToString("N")[..8], adminKey: null);
        await using var socket = await server.ConnectAsync();

        var withHeader = await socket.RequestAsync("GET", "/rooms", headers: Admin);
        var emptyHeader = await socket.RequestAsync("GET", "/rooms", headers: new Dictionary<string, string> { ["x-admin-key"] = "" });

        Assert.Equal(403, withHeader.StatusCode);
        Assert.Equal(403, emptyHeader.StatusCode);
        Assert.Contains("no Rooms:AdminKey", withHeader.Error);
    }

    [Fact]
    public async Task KickLeavesAnotherSocketAndAnUnknownIdIs404()
    {
        await using var victim = await fixture.Server.ConnectAsync();
        await using var admin = await fixture.Server.ConnectAsync();
        var room = Unique.Room();
        await victim.RequestAsync("POST", "/joinFunRoom", new { roomName = room });

        var kick = await admin.RequestAsync("POST", "/kickFromFunRoom", new { socketId = victim.Id, roomName = room }, Admin);
        var unknown = await admin.RequestAsync("POST", "/kickFromFunRoom", new { socketId = "ghost", roomName = room }, Admin);
        using var http = fixture.Server.Http();
        var overHttp = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/kickFromFunRoom")
        {
            Content = JsonContent.Create(new { socketId = victim.Id, roomName = room }),
            Headers = { { "x-admin-key", FrontEndServer.AdminKey } },
        });

        Assert.Equal(200, kick.StatusCode);
        Assert.Equal($"Kicked {victim.Id} from {room}!", kick.Message);
        Assert.Equal(404, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.OK, overHttp.StatusCode);
        Assert.Empty((await admin.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings);
    }

    [Fact]
    public async Task AddRemoveAndLeaveAllDriveWholeRooms()
    {
        await using var a = await fixture.Server.ConnectAsync();
        await using var b = await fixture.Server.ConnectAsync();
        var (source, dest1, dest2) = (Unique.Room(), Unique.Room(), Unique.Room());
        await a.RequestAsync("POST", "/joinFunRoom", new { roomName = source });
        await b.RequestAsync("POST", "/joinFunRoom", new { roomName = source });

        var add = await a.RequestAsync("POST", "/rooms/addMembers", new { sourceRoom = source, destRooms = new[] { dest1, dest2 } }, Admin);
        var afterAdd = await a.RequestAsync("GET", "/funRoomSubscribers", new { roomName = dest2 });
        var remove = await a.RequestAsync("POST", "/rooms/removeMembers", new { sourceRoom = source, destRooms = dest2 }, Admin);
        var afterRemove = await a.RequestAsync("GET", "/funRoomSubscribers", new { roomName = dest2 });
        var leaveAll = await a.RequestAsync("POST", "/rooms/leaveAll", new { roomName = source, includeSourceRoom = false }, Admin);

        Assert.Equal(200, add.StatusCode);
        Assert.True(add.Body.GetProperty("ok").GetBoolean());
        Assert.Equal(new[] { a.Id, b.Id }.Order(), afterAdd.Strings.Order());
        Assert.Equal(200, remove.StatusCode);
        Assert.Empty(afterRemove.Strings);
        Assert.Equal(200, leaveAll.StatusCode);
        Assert.Equal(new[] { a.Id, source }.Order(), (await a.RequestAsync("GET", "/socketRooms")).Strings.Order());
        Assert.Empty((await a.RequestAsync("GET", "/funRoomSubscribers", new { roomName = dest1 })).Strings);
    }

    [Fact]
    public async Task RoomsPagesInOrdinalOrderWithACursor()
    {
        await using var socket = await fixture.Server.ConnectAsync();
        var prefix = "pg-" + Guid.NewGuid().ToString("N")[..8] + "-";
        var names = Enumerable.Range(0, 5).Select(i => prefix + i).ToArray();
        foreach (var name in names)
        {
            await socket.RequestAsync("POST", "/joinFunRoom", new { roomName = name });
        }

        var first = await socket.RequestAsync("GET", $"/rooms?after={prefix}&limit=2", headers: Admin);
        var next = first.Body.GetProperty("next").GetString();
        var second = await socket.RequestAsync("GET", $"/rooms?after={next}&limit=2", headers: Admin);
        var all = await socket.RequestAsync("GET", "/rooms", headers: Admin);

        Assert.Equal(names[..2], first.Body.GetProperty("rooms").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(names[1], next);
        Assert.Equal(names[2..4], second.Body.GetProperty("rooms").EnumerateArray().Select(e => e.GetString()));
        var listed = all.Body.GetProperty("rooms").EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.Subset(listed.ToHashSet(), names.ToHashSet<string?>());
        Assert.DoesNotContain(socket.Id, listed);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, all.Body.GetProperty("next").ValueKind);
    }
}
