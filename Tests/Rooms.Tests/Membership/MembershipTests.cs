using Orleans.Rooms.Directory;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Tests.Infrastructure;

namespace Orleans.Rooms.Tests.Membership;

/// <summary>Every call of the room API, written through one silo and read through another.</summary>
[Collection(ClusterCollection.Name)]
public sealed class MembershipTests(ClusterFixture fixture)
{
    private readonly IRoomService _writer = fixture.Api(0);
    private readonly IRoomService _reader = fixture.Api(1);

    [Fact]
    public async Task JoinIsVisibleToSubscribersAndSocketRoomsOnAnotherSilo()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var room = Unique.Room();

        await _writer.JoinAsync(socket, room);

        Assert.Equal([socket], await _reader.SubscribersAsync(room));
        Assert.Equal(new[] { socket, room }.Order(), (await fixture.Api(2).SocketRoomsAsync(socket)).Order());
    }

    [Fact]
    public async Task LeaveIsVisibleOnAnotherSiloAndLeavingARoomNotJoinedSucceeds()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var room = Unique.Room();
        await _writer.JoinAsync(socket, room);

        await _writer.LeaveAsync(socket, room);
        await _writer.LeaveAsync(socket, room);
        await _writer.LeaveAsync(socket, Unique.Room());

        Assert.Empty(await _reader.SubscribersAsync(room));
        Assert.Equal([socket], await _reader.SocketRoomsAsync(socket));
    }

    [Fact]
    public async Task JoiningTwiceKeepsOneMembership()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var room = Unique.Room();

        await _writer.JoinAsync(socket, room);
        await _reader.JoinAsync(socket, room);

        Assert.Equal([socket], await _reader.SubscribersAsync(room));
    }

    [Fact]
    public async Task EverySocketIsInItsOwnIdRoomAndBroadcastToItsIdReachesOnlyIt()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var a = await frontEnd.ConnectAsync();
        var b = await frontEnd.ConnectAsync();

        Assert.Equal([a], await _reader.SubscribersAsync(a));
        await _writer.BroadcastAsync([a], "direct", new { n = 1 });
        await _writer.BroadcastAsync([b], "marker", new { n = 2 });

        await frontEnd.InboxOf(b).WaitForAsync("marker", """{"n":2}""");
        await frontEnd.InboxOf(a).WaitForAsync("direct", """{"n":1}""");
        Assert.Equal(0, frontEnd.InboxOf(b).Count("direct", """{"n":1}"""));
    }

    [Fact]
    public async Task UnknownSocketIdIsReportedAndChangesNothing()
    {
        var room = Unique.Room();
        var unknown = "no-such-socket-" + Guid.NewGuid().ToString("N");

        var join = await Assert.ThrowsAsync<SocketNotFoundException>(() => _writer.JoinAsync(unknown, room));
        Assert.Equal(unknown, join.SocketId);
        Assert.Contains(unknown, join.Message);
        await Assert.ThrowsAsync<SocketNotFoundException>(() => _writer.LeaveAsync(unknown, room));
        await Assert.ThrowsAsync<SocketNotFoundException>(() => _reader.SocketRoomsAsync(unknown));

        Assert.Empty(await _reader.SubscribersAsync(room));
        Assert.DoesNotContain(room, (await _reader.RoomsAsync(limit: RoomPage.MaxLimit)).Rooms);
    }

    [Fact]
    public async Task AListWithAnUnknownSocketJoinsTheOthersAndSaysWhichFailed()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var a = await frontEnd.ConnectAsync();
        var b = await frontEnd.ConnectAsync();
        var room = Unique.Room();

        var error = await Assert.ThrowsAsync<PartialFailureException>(() => _writer.JoinAsync(new[] { a, "ghost-socket", b }, room));

        Assert.Equal(new[] { a, b }.Order(), error.Succeeded.Order());
        var failure = Assert.Single(error.Failures);
        Assert.Equal("ghost-socket", failure.Key);
        Assert.IsType<SocketNotFoundException>(failure.Value);
        Assert.Contains("ghost-socket", error.Message);
        Assert.Equal(new[] { a, b }.Order(), (await _reader.SubscribersAsync(room)).Order());
    }

    [Fact]
    public async Task DisconnectLeavesEveryRoomAndForgetsTheSocket()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var other = await frontEnd.ConnectAsync();
        var room1 = Unique.Room();
        var room2 = Unique.Room();
        await _writer.JoinAsync(socket, room1);
        await _writer.JoinAsync(new[] { socket, other }, room2);

        await frontEnd.DisconnectAsync(socket);

        Assert.Empty(await _reader.SubscribersAsync(room1));
        Assert.Equal([other], await _reader.SubscribersAsync(room2));
        Assert.Empty(await _reader.SubscribersAsync(socket));
        await Assert.ThrowsAsync<SocketNotFoundException>(() => _reader.SocketRoomsAsync(socket));
        await Assert.ThrowsAsync<SocketNotFoundException>(() => _writer.JoinAsync(socket, room1));
        var rooms = (await _reader.RoomsAsync(limit: RoomPage.MaxLimit)).Rooms;
        Assert.DoesNotContain(room1, rooms);
        Assert.Contains(room2, rooms);
    }

    [Fact]
    public async Task LeaveAllByDefaultLeavesEveryRoomButTheOwnIdRoom()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var a = await frontEnd.ConnectAsync();
        var b = await frontEnd.ConnectAsync();
        var outsider = await frontEnd.ConnectAsync();
        var (source, other) = (Unique.Room(), Unique.Room());
        await _writer.JoinAsync(new[] { a, b }, source);
        await _writer.JoinAsync(new[] { a, outsider }, other);

        await _writer.LeaveAllAsync(source);

        Assert.Empty(await _reader.SubscribersAsync(source));
        Assert.Equal([outsider], await _reader.SubscribersAsync(other));
        Assert.Equal([a], await _reader.SocketRoomsAsync(a));
        Assert.Equal([b], await _reader.SocketRoomsAsync(b));
    }

    [Fact]
    public async Task LeaveAllWithSocketRoomsAndWithoutSourceRoomDoesExactlyThat()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var a = await frontEnd.ConnectAsync();
        var (source, other) = (Unique.Room(), Unique.Room());
        await _writer.JoinAsync(a, source);
        await _writer.JoinAsync(a, other);

        await _writer.LeaveAllAsync(source, new LeaveAllOptions(IncludeSocketRooms: true, IncludeSourceRoom: false));

        Assert.Equal([source], await _reader.SocketRoomsAsync(a));
        Assert.Empty(await _reader.SubscribersAsync(a));
        Assert.Empty(await _reader.SubscribersAsync(other));
        Assert.Equal([a], await _reader.SubscribersAsync(source));
    }

    [Fact]
    public async Task AddRoomMembersToRoomsJoinsEveryMemberToEveryDestination()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var a = await frontEnd.ConnectAsync();
        var b = await frontEnd.ConnectAsync();
        var (source, dest1, dest2) = (Unique.Room(), Unique.Room(), Unique.Room());
        await _writer.JoinAsync(new[] { a, b }, source);

        await _writer.AddRoomMembersToRoomsAsync(source, [dest1, dest2]);

        Assert.Equal(new[] { a, b }.Order(), (await _reader.SubscribersAsync(dest1)).Order());
        Assert.Equal(new[] { a, b }.Order(), (await _reader.SubscribersAsync(dest2)).Order());
        Assert.Equal(new[] { a, source, dest1, dest2 }.Order(), (await _reader.SocketRoomsAsync(a)).Order());
    }

    [Fact]
    public async Task OneRoomFormsTakeASocketIdAsTheSourceAndOneDestination()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var a = await frontEnd.ConnectAsync();
        var dest = Unique.Room();

        await _writer.AddRoomMembersToRoomsAsync(a, dest);
        await _writer.BroadcastAsync(dest, "single-room-form", 7);

        Assert.Equal([a], await _reader.SubscribersAsync(dest));
        await frontEnd.InboxOf(a).WaitForAsync("single-room-form", "7");
        await _writer.RemoveRoomMembersFromRoomsAsync(a, dest);
        Assert.Empty(await _reader.SubscribersAsync(dest));
    }

    [Fact]
    public async Task RemoveRoomMembersFromRoomsLeavesOnlyTheDestinations()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var a = await frontEnd.ConnectAsync();
        var b = await frontEnd.ConnectAsync();
        var c = await frontEnd.ConnectAsync();
        var (source, dest1, dest2, kept) = (Unique.Room(), Unique.Room(), Unique.Room(), Unique.Room());
        await _writer.JoinAsync(new[] { a, b }, source);
        await _writer.JoinAsync(new[] { a, b, c }, dest1);
        await _writer.JoinAsync(new[] { a, c }, dest2);
        await _writer.JoinAsync(a, kept);

        await _writer.RemoveRoomMembersFromRoomsAsync(source, [dest1, dest2]);

        Assert.Equal([c], await _reader.SubscribersAsync(dest1));
        Assert.Equal([c], await _reader.SubscribersAsync(dest2));
        Assert.Equal(new[] { a, b }.Order(), (await _reader.SubscribersAsync(source)).Order());
        Assert.Equal([a], await _reader.SubscribersAsync(kept));
    }

    [Fact]
    public async Task RoomsListsRoomsWithMembersInOrdinalPagesWithoutOwnIdRooms()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var other = await frontEnd.ConnectAsync();
        var prefix = "page-" + Guid.NewGuid().ToString("N")[..6] + "-";
        var names = Enumerable.Range(0, 25).Select(i => $"{prefix}{i:D2}").ToArray();
        for (var i = 0; i < names.Length; i++)
        {
            await _writer.JoinAsync(i % 2 == 0 ? socket : other, names[i]);
        }

        var seen = new List<string>();
        var ownIdRoomSeen = false;
        string? cursor = null;
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = await _reader.RoomsAsync(cursor, limit: 7);
            Assert.True(page.Rooms.Count <= 7);
            Assert.Equal(page.Rooms.Order(StringComparer.Ordinal), page.Rooms);
            seen.AddRange(page.Rooms.Where(r => r.StartsWith(prefix, StringComparison.Ordinal)));
            ownIdRoomSeen |= page.Rooms.Contains(socket) || page.Rooms.Contains(other);
            if (page.Next is null)
            {
                break;
            }

            Assert.Equal(page.Rooms[^1], page.Next);
            cursor = page.Next;
        }

        Assert.Equal(names, seen);
        Assert.False(ownIdRoomSeen);

        await _writer.LeaveAsync(other, names[3]);
        Assert.DoesNotContain(names[3], (await _reader.RoomsAsync(prefix, limit: 100)).Rooms);
    }

    [Fact]
    public async Task AnEmptiedRoomLeavesRoomsAtOnceAndTheDirectoryShortlyAfterAndPagesStayFull()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var prefix = "grace-" + Guid.NewGuid().ToString("N")[..6] + "-";
        var names = Enumerable.Range(0, 12).Select(i => $"{prefix}{i:D2}").ToArray();
        foreach (var name in names)
        {
            await _writer.JoinAsync(socket, name);
        }

        // Every other room empties: still in the directory for a moment, never in a page.
        var emptied = names.Where((_, i) => i % 2 == 1).ToArray();
        foreach (var name in emptied)
        {
            await _writer.LeaveAsync(socket, name);
        }

        var stillListed = (await fixture.Grains(2).ShardFor(emptied[0]).Page(emptied[0][..^1], 100)).Rooms;
        Assert.Contains(emptied[0], stillListed);

        var seen = new List<string>();
        string? cursor = prefix;
        for (var pages = 0; pages < 100; pages++)
        {
            var page = await _reader.RoomsAsync(cursor, limit: 3);
            var ours = page.Rooms.Where(r => r.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            seen.AddRange(ours);
            if (page.Next is null || ours.Count < page.Rooms.Count)
            {
                break;
            }

            // Pages are full although half of what the directory lists in this range is empty.
            Assert.Equal(3, page.Rooms.Count);
            cursor = page.Next;
        }

        Assert.Equal(names.Except(emptied), seen);

        await Eventually.HoldsAsync(
            async () => !(await fixture.Grains(0).ShardFor(emptied[0]).Page(emptied[0][..^1], 100)).Rooms.Contains(emptied[0]),
            "the emptied room delisted by its grain's timer",
            TimeSpan.FromSeconds(10));

        // Joined again: listed again at once.
        await _writer.JoinAsync(socket, emptied[0]);
        Assert.Contains(emptied[0], (await _reader.RoomsAsync(prefix, limit: 100)).Rooms);
    }

    [Fact]
    public async Task ASocketOfAnotherFrontEndIsLocatedOnceThenChangedOnItsFrontEndDirectlyUntilItIsGone()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var socket = await frontEnd.ConnectAsync();
        var (room, other) = (Unique.Room(), Unique.Room());

        // This service holds no sockets: every change and read of the socket goes to the front end holding it.
        await _writer.JoinAsync(socket, room);
        await _writer.JoinAsync(socket, other);
        await _writer.LeaveAsync(socket, room);
        Assert.Equal(new[] { socket, other }.Order(), (await _writer.SocketRoomsAsync(socket)).Order());
        Assert.Equal(0, RoomCallCounter.Locates(socket)); // found by asking the front ends with the change itself

        // Gone from its front end: the remembered place answers "unknown", and so does every front end; the next
        // request within FreshFor hears "gone" with no call to a front end, only its socket grain read (it names none).
        await frontEnd.DisconnectAsync(socket);
        var before = RoomCallCounter.CallsTo(frontEnd.Id);
        await Assert.ThrowsAsync<SocketNotFoundException>(() => _writer.JoinAsync(socket, room));
        var searched = RoomCallCounter.CallsTo(frontEnd.Id);
        Assert.Equal(0, RoomCallCounter.Locates(socket));
        await Assert.ThrowsAsync<SocketNotFoundException>(() => _writer.SocketRoomsAsync(socket));
        Assert.True(searched > before, "the front end that held it was asked again");
        Assert.Equal(searched, RoomCallCounter.CallsTo(frontEnd.Id));
        Assert.Equal(1, RoomCallCounter.Locates(socket));
        Assert.Empty(await _reader.SubscribersAsync(other));
    }

    [Fact]
    public async Task ASocketFoundNowhereThatComesBackOnAnotherFrontEndIsFoundAtOnceNotAnsweredUnknown()
    {
        await using var lost = await fixture.FrontEnd();
        await using var resumedOn = await fixture.FrontEnd();
        var socket = await lost.ConnectAsync();
        var room = Unique.Room();
        await _writer.JoinAsync(socket, room);

        // Its front end lets it go (as a lost one's sockets are, to be resumed): a request now hears "unknown", and
        // that is remembered for FreshFor.
        await lost.DisconnectAsync(socket);
        await Assert.ThrowsAsync<SocketNotFoundException>(() => _writer.JoinAsync(socket, room));

        // It resumes on another front end, which records its location: the very next request (well within FreshFor)
        // reaches it there rather than answering from what it remembered.
        await resumedOn.AdoptAsync(socket, lost.Id);
        await _writer.JoinAsync(socket, room);
        Assert.Equal(new[] { socket, room }.Order(StringComparer.Ordinal), (await _writer.SocketRoomsAsync(socket)).Order(StringComparer.Ordinal));
        Assert.Equal([socket], await _reader.SubscribersAsync(room));
        Assert.Equal(new[] { socket, room }.Order(StringComparer.Ordinal), resumedOn.RecordOf(socket)!.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AConnectedSocketThatJoinsNothingCostsNoGrainCallYetIsReachedByIdFromAnotherFrontEnd()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var idle = await frontEnd.ConnectAsync();
        var addressed = await frontEnd.ConnectAsync();

        // Connected, then disconnected, and never looked for from elsewhere: no grain heard of it.
        await frontEnd.DisconnectAsync(idle);
        Assert.Equal(0, RoomCallCounter.CallsTo(idle));
        Assert.Equal(0, RoomCallCounter.CallsTo(addressed));

        // Another front end broadcasts to its id: found (every front end asked once), recorded, reached.
        await _writer.BroadcastAsync([addressed], "direct", 1);
        await frontEnd.InboxOf(addressed).WaitForAsync("direct", "1");
        Assert.Equal(frontEnd.Id, await fixture.Cluster.Client.GetGrain<ISocketGrain>(addressed).GetFrontEnd());

        // And joined to a room by id from a third: changed on its front end; its disconnect forgets its location.
        var room = Unique.Room();
        await _reader.JoinAsync(addressed, room);
        Assert.Equal([addressed], await _writer.SubscribersAsync(room));
        await frontEnd.DisconnectAsync(addressed);
        await Assert.ThrowsAsync<SocketNotFoundException>(() => fixture.Cluster.Client.GetGrain<ISocketGrain>(addressed).GetFrontEnd());
    }

    [Fact]
    public async Task RoomsRejectsALimitOutOfRange()
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _reader.RoomsAsync(limit: 0));
        Assert.Equal("limit", error.ParamName);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _reader.RoomsAsync(limit: RoomPage.MaxLimit + 1));
    }

    [Fact]
    public async Task ASocketThatLeavesAndJoinsAgainCostsTheRoomGrainNothingUntilTheRoomStaysEmpty()
    {
        await using var frontEnd = await fixture.FrontEnd();
        var (a, b) = (await frontEnd.ConnectAsync(), await frontEnd.ConnectAsync());
        var room = Unique.Room();

        await _writer.JoinAsync(a, room);
        await _writer.JoinAsync(b, room);
        for (var i = 0; i < 10; i++)
        {
            await _writer.LeaveAsync(a, room);
            Assert.Equal([b], await _reader.SubscribersAsync(room));
            await _writer.LeaveAsync(b, room);
            Assert.Empty(await _reader.SubscribersAsync(room));
            Assert.DoesNotContain(room, (await _reader.RoomsAsync(room[..^1], limit: 10)).Rooms);
            await _writer.JoinAsync(new[] { a, b }, room);
            Assert.Equal(new[] { a, b }.Order(), (await _reader.SubscribersAsync(room)).Order());
        }

        // One listing for the room's first member on this front end; none for the members after it, the
        // leaves and the joins again.
        Assert.Equal(1, RoomCallCounter.Adds(room));
        Assert.Equal(0, RoomCallCounter.Removes(room));

        // Left for good: delisted once the room has stayed empty on this front end.
        await _writer.LeaveAsync(new[] { a, b }, room);
        await Eventually.HoldsAsync(async () => (await fixture.Grains(1).GetGrain<IRoomGrain>(room).GetFrontEnds()).FrontEnds.Length == 0, "the room delisting its emptied front end");
        Assert.Equal(1, RoomCallCounter.Removes(room));

        await _writer.JoinAsync(a, room);
        Assert.Equal(2, RoomCallCounter.Adds(room));
        Assert.Equal([a], await _reader.SubscribersAsync(room));
        await Indexes.AssertAgreeAsync(fixture.Cluster.Client, _reader, [a, b], [room], frontEnd);
    }
}
