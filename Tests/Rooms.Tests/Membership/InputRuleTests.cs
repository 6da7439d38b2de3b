using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Tests.Infrastructure;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Tests.Membership;

/// <summary>Bad input gets an exception that names the argument and the value, and changes nothing.</summary>
[Collection(ClusterCollection.Name)]
public sealed class InputRuleTests(ClusterFixture fixture)
{
    private readonly IRoomService _api = fixture.Api(0);

    public static TheoryData<string, string> BadRoomNames => new()
    {
        { "", "must not be empty" },
        { new string('r', 257), "at most 256 characters" },
        { "tab\there", "control characters" },
        { "nul\0", "control characters" },
        { "line\nbreak", "control characters" },
    };

    [Theory]
    [MemberData(nameof(BadRoomNames))]
    public async Task EveryCallRejectsABadRoomNameAndChangesNothing(string room, string reason)
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var good = "good-" + Guid.NewGuid().ToString("N")[..8];
        await _api.JoinAsync(socket, good);

        var calls = new (string Param, Func<Task> Call)[]
        {
            ("room", () => _api.JoinAsync(socket, room)),
            ("room", () => _api.LeaveAsync(socket, room)),
            ("room", () => _api.LeaveAllAsync(room)),
            ("room", () => _api.SubscribersAsync(room)),
            ("rooms", () => _api.BroadcastAsync([good, room], "e", 1)),
            ("sourceRoom", () => _api.AddRoomMembersToRoomsAsync(room, [good])),
            ("destRooms", () => _api.AddRoomMembersToRoomsAsync(good, ["fine", room])),
            ("destRooms", () => _api.RemoveRoomMembersFromRoomsAsync(good, [room])),
        };

        foreach (var (param, call) in calls)
        {
            var error = await Assert.ThrowsAnyAsync<ArgumentException>(call);
            Assert.Equal(param, error.ParamName);
            Assert.Contains(reason, error.Message);
        }

        Assert.Empty(frontEnd.Batches);
        Assert.Equal(new[] { socket, good }.Order(), (await _api.SocketRoomsAsync(socket)).Order());
        Assert.DoesNotContain("fine", await _api.SocketRoomsAsync(socket));
    }

    [Fact]
    public async Task NullRoomNamesAreRejectedNamingTheArgument()
    {
        var error = await Assert.ThrowsAsync<ArgumentNullException>(() => _api.SubscribersAsync(null!));
        Assert.Equal("room", error.ParamName);
        await Assert.ThrowsAsync<ArgumentNullException>(() => _api.BroadcastAsync(null!, "e", 1));
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => _api.BroadcastAsync([], "e", 1));
        Assert.Equal("rooms", empty.ParamName);
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("bell\a", "control characters")]
    public async Task BadEventNamesAreRejectedAndNothingIsSent(string eventName, string reason)
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();

        var broadcast = await Assert.ThrowsAsync<ArgumentException>(() => _api.BroadcastAsync([socket], eventName, 1));
        var blast = await Assert.ThrowsAsync<ArgumentException>(() => _api.BlastAsync(eventName, 1));

        Assert.Equal("eventName", broadcast.ParamName);
        Assert.Contains(reason, broadcast.Message);
        Assert.Equal("eventName", blast.ParamName);
        Assert.Empty(frontEnd.Batches);
    }

    [Fact]
    public async Task EventNamesOfMaxLengthPassAndOneMoreFails()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();

        await _api.BroadcastAsync([socket], new string('e', 128), 1);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _api.BroadcastAsync([socket], new string('e', 129), 1));

        Assert.Contains("at most 128 characters", error.Message);
        Assert.Single(frontEnd.Batches);
    }

    [Fact]
    public async Task RoomNamesOfMaxLengthAreAccepted()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var room = Guid.NewGuid().ToString("N") + new string('x', 256 - 32);

        await _api.JoinAsync(socket, room);

        Assert.Equal([socket], await _api.SubscribersAsync(room));
    }

    [Fact]
    public async Task ARoomNameOfSpacesIsANameLikeAnyOther()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();

        await _api.JoinAsync(socket, "   ");
        await _api.BroadcastAsync(["   "], "spaces", 1);

        Assert.Equal([socket], await fixture.Api(1).SubscribersAsync("   "));
        await frontEnd.InboxOf(socket).WaitForAsync("spaces", "1");
        await _api.LeaveAsync(socket, "   ");
        Assert.Empty(await _api.SubscribersAsync("   "));
    }

    [Fact]
    public async Task JoiningPastTheRoomLimitFailsAndJoinsNothing()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var prefix = "limit-" + Guid.NewGuid().ToString("N")[..8] + "-";
        for (var i = 0; i < ClusterFixture.MaxRoomsPerSocket; i++)
        {
            await _api.JoinAsync(socket, prefix + i);
        }

        var error = await Assert.ThrowsAsync<RoomLimitExceededException>(() => _api.JoinAsync(socket, prefix + "one-too-many"));
        var bulk = await Assert.ThrowsAsync<PartialFailureException>(() => _api.AddRoomMembersToRoomsAsync(socket, [prefix + "x", prefix + "y"]));

        Assert.Equal(socket, error.SocketId);
        Assert.Contains("MaxRoomsPerSocket", error.Message);
        Assert.Equal(ClusterFixture.MaxRoomsPerSocket, Assert.IsType<RoomLimitExceededException>(Assert.Single(bulk.Failures).Value).Limit);
        Assert.Equal(ClusterFixture.MaxRoomsPerSocket + 1, (await _api.SocketRoomsAsync(socket)).Count);
        Assert.Empty(await _api.SubscribersAsync(prefix + "one-too-many"));
        Assert.Empty(await _api.SubscribersAsync(prefix + "x"));
    }

    [Fact]
    public async Task APlainHttpRequestIsNotASocket()
    {
        var plain = new DefaultHttpContext();

        var error = Assert.Throws<NotASocketRequestException>(() => _api.GetId(plain));
        await Assert.ThrowsAsync<NotASocketRequestException>(() => _api.JoinAsync(plain, "room"));

        Assert.Contains("did not come over a socket", error.Message);
    }

    [Fact]
    public async Task ASocketRequestNamesItsSocket()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var request = new DefaultHttpContext();
        request.Features.Set<ISocketRequestFeature>(new Feature(socket));
        var room = "req-" + Guid.NewGuid().ToString("N")[..8];

        await _api.JoinAsync(request, room);

        Assert.Equal(socket, _api.GetId(request));
        Assert.Equal([socket], await _api.SubscribersAsync(room));
    }

    [Theory]
    [InlineData("MaxRoomNameLength", "0")]
    [InlineData("MaxEventNameLength", "-1")]
    [InlineData("MaxRoomsPerSocket", "0")]
    public void InvalidSettingsFailAtStartNamingTheSetting(string setting, string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"Rooms:{setting}"] = value })
            .Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSelfValidatingOptions<RoomsOptions>(RoomsOptions.SectionName).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RoomsOptions>>().Value);

        Assert.Contains($"Rooms:{setting}", error.Message);
    }

    private sealed record Feature(string SocketId) : ISocketRequestFeature;
}
