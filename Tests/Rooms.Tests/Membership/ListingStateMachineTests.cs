using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Tests.Shared;

namespace Orleans.Rooms.Tests.Membership;

/// <summary>
/// The listing state machine of <see cref="FrontEndMembership"/> against a fake door and a fake clock: which
/// calls a change costs, when a join completes, what a failure undoes, and when an emptied room is delisted.
/// </summary>
public sealed class ListingStateMachineTests : IAsyncDisposable
{
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly FakeDoor _door = new();
    private readonly FrontEndMembership _membership;

    public ListingStateMachineTests()
    {
        var metrics = TestMetrics.Create();
        _membership = new FrontEndMembership(
            _door,
            Options.Create(new RoomsOptions { MaxRoomsPerSocket = 3 }),
            Options.Create(new FrontEndOptions { EmptyRoomLinger = Linger }),
            _time,
            metrics,
            NullLogger<FrontEndMembership>.Instance);
    }

    public ValueTask DisposeAsync() => _membership.DisposeAsync();

    [Fact]
    public async Task AConnectingSocketCostsNoCallUntilAnotherSocketJoinsItsOwnRoom()
    {
        await ConnectAsync("s1", "s2");
        Assert.Empty(_door.Calls);
        Assert.False(_membership.IsListed("s1"));

        await JoinAsync("s2", "s1");

        Assert.Equal(["list s1"], _door.Calls);
        Assert.Equal(["s1"], _door.ListedListable());
    }

    [Fact]
    public async Task ASocketLookedForIsRelistedAndForgottenOnceAndOthersAreNot()
    {
        await ConnectAsync("s1", "s2");
        Assert.True(_membership.TryMarkLocated("s1"));
        Assert.False(_membership.TryMarkLocated("elsewhere"));

        await _membership.RelistAllAsync().WaitAsync(Bound);

        Assert.Equal(["relist-sockets s1"], _door.Calls.Where(c => c.StartsWith("relist-sockets", StringComparison.Ordinal)));
        Assert.True(_membership.ForgetLocation("s1"));
        Assert.False(_membership.ForgetLocation("s1"));
        Assert.False(_membership.ForgetLocation("s2"));
    }

    [Fact]
    public async Task TheFirstJoinOfARoomListsItAndLaterJoinsOfItCostNoCall()
    {
        await ConnectAsync("s1", "s2");
        var before = _door.CountOf("list");

        await JoinAsync("s1", "fun");
        await JoinAsync("s2", "fun");

        Assert.Equal(before + 1, _door.CountOf("list"));
        Assert.Contains("fun", _door.ListedListable());
        Assert.Equal(["s1", "s2"], _membership.MembersOf("fun").Order());
    }

    [Fact]
    public async Task AJoinCompletesOnlyOnceItsRoomListsThisFrontEnd()
    {
        await ConnectAsync("s1", "s2");
        _door.HoldListings();

        var first = JoinAsync("s1", "fun");
        var second = JoinAsync("s2", "fun");

        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted); // waits for the listing in flight, and makes none of its own
        Assert.Equal(["s1", "s2"], _membership.MembersOf("fun").Order()); // delivered to already, as Sails does
        Assert.Equal(1, _door.Calls.Count(c => c == "list fun"));

        _door.Release();
        await Task.WhenAll(first, second).WaitAsync(Bound);
        Assert.Equal(1, _door.Calls.Count(c => c == "list fun"));
        Assert.True(_membership.IsListed("fun"));
    }

    [Fact]
    public async Task AJoinWhoseListingFailsIsUndoneAndThrowsAndTheMaybeListedRoomIsDelistedLater()
    {
        await ConnectAsync("s1");
        _door.FailListingsWith = new TimeoutException("the silo did not answer");

        var error = await Assert.ThrowsAsync<TimeoutException>(() => JoinAsync("s1", "fun"));

        Assert.Equal("the silo did not answer", error.Message);
        Assert.Equal(["s1"], _membership.RoomsOf("s1")!);
        Assert.False(_membership.IsListed("fun"));

        _door.FailListingsWith = null;
        _time.Advance(Linger);
        await _membership.SweepAsync();
        Assert.Contains("delist fun", _door.Calls);
        Assert.DoesNotContain("fun", _door.Listed());
    }

    [Fact]
    public async Task ASweepLooksOnlyAtTheRoomsEmptiedSinceItLastLookedNotAtEveryRoomListed()
    {
        var sockets = Enumerable.Range(0, 200).Select(i => $"s{i}").ToArray();
        await ConnectAsync(sockets);
        foreach (var socket in sockets)
        {
            await JoinAsync(socket, $"room-{socket}");
        }

        Assert.Equal(200, _door.CountOf("list"));
        Assert.Equal(0, _membership.SweepCandidates);

        await ChangeAsync("s0", MembershipChange.Leaving(["room-s0"]));
        await ChangeAsync("s1", MembershipChange.Leaving(["room-s1"]));
        await JoinAsync("s1", "room-s1"); // back within the linger: no longer to delist
        Assert.Equal(2, _membership.SweepCandidates);

        _time.Advance(Linger);
        await _membership.SweepAsync();

        Assert.Equal(["delist room-s0"], _door.Calls.Where(c => c.StartsWith("delist", StringComparison.Ordinal)));
        Assert.Equal(0, _membership.SweepCandidates);
        Assert.Equal(199, _door.Listed().Length);
    }

    [Fact]
    public async Task AnEmptiedRoomStaysListedForTheLingerThenIsDelistedInOneBatch()
    {
        await ConnectAsync("s1");
        await JoinAsync("s1", "a");
        await JoinAsync("s1", "b");

        await ChangeAsync("s1", MembershipChange.Leaving(["a", "b"]));
        _time.Advance(Linger - TimeSpan.FromMilliseconds(1));
        await _membership.SweepAsync();
        Assert.Equal(0, _door.CountOf("delist"));
        Assert.Equal(["a", "b"], _door.Listed());

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await _membership.SweepAsync();
        Assert.Equal(["a,b"], _door.Calls.Where(c => c.StartsWith("delist", StringComparison.Ordinal)).Select(c => string.Join(',', c["delist ".Length..].Split(',').Order())));
        Assert.Empty(_door.Listed());
    }

    [Fact]
    public async Task OnceTheFrontEndStopsSweepingItsEmptiedRoomsAreLeftToItsDetach()
    {
        await ConnectAsync("s1");
        await JoinAsync("s1", "a");
        await ChangeAsync("s1", MembershipChange.Leaving(["a"]));

        await _membership.StopSweepingAsync(Bound);
        _time.Advance(Linger * 3); // the sweeper's timer would have delisted it by now
        await _membership.SweepAsync();

        Assert.Equal(0, _door.CountOf("delist"));
        Assert.Equal(["a"], _door.Listed()); // the detach's purge delists it, with every other room of the front end
    }

    [Fact]
    public async Task ASocketThatLeavesAndJoinsAgainWithinTheLingerCostsNoCall()
    {
        await ConnectAsync("s1");
        await JoinAsync("s1", "fun");
        var calls = _door.Calls.Count;

        for (var i = 0; i < 10; i++)
        {
            await ChangeAsync("s1", MembershipChange.Leaving(["fun"]));
            _time.Advance(Linger / 4);
            await JoinAsync("s1", "fun");
        }

        await _membership.SweepAsync();
        Assert.Equal(calls, _door.Calls.Count);
    }

    [Fact]
    public async Task AJoinPastTheRoomLimitThrowsAndChangesNothing()
    {
        await ConnectAsync("s1");
        await ChangeAsync("s1", MembershipChange.Joining(["a", "b", "c"]));
        var calls = _door.Calls.Count;

        var error = await Assert.ThrowsAsync<RoomLimitExceededException>(() => JoinAsync("s1", "d"));

        Assert.Contains("3", error.Message, StringComparison.Ordinal);
        Assert.Equal(["a", "b", "c", "s1"], _membership.RoomsOf("s1")!.Order());
        Assert.Equal(calls, _door.Calls.Count);
    }

    [Fact]
    public async Task AChangeOfASocketNotHeldHereAnswersFalseAndChangesNothing()
    {
        Assert.False(await _membership.ChangeAsync("ghost", MembershipChange.Joining(["fun"])));
        Assert.Empty(_door.Calls);
        Assert.Empty(_membership.MembersOf("fun"));
    }

    [Fact]
    public async Task AnOwnIdRoomJoinedByAnotherSocketIsListedAgainAsShownInRooms()
    {
        await ConnectAsync("s1", "s2");
        Assert.DoesNotContain("s1", _door.ListedListable());

        await JoinAsync("s2", "s1");

        Assert.Contains("s1", _door.ListedListable());
        Assert.Equal(["s1"], _membership.Occupied(["s1", "s2"]));
    }

    [Fact]
    public async Task ADisconnectLeavesEveryRoomAtOnceAndItsRoomsAreDelistedAfterTheLinger()
    {
        await ConnectAsync("s1");
        await JoinAsync("s1", "fun");

        _membership.RemoveSocket("s1");

        Assert.Empty(_membership.MembersOf("fun"));
        Assert.Null(_membership.RoomsOf("s1"));
        _time.Advance(Linger);
        await _membership.SweepAsync();
        Assert.Empty(_door.Listed());
    }

    [Fact]
    public async Task RelistingListsEveryListedRoomAndEveryLocatedSocketAgainWithTheRightKind()
    {
        await ConnectAsync("s1", "s2", "s3");
        await JoinAsync("s1", "fun");
        await JoinAsync("s3", "s2"); // another socket in s2's own-id room: listed, and shown in Rooms()
        Assert.True(_membership.TryMarkLocated("s1"));
        _door.Calls.Clear();

        await _membership.RelistAllAsync();

        Assert.Equal(["relist-sockets s1"], _door.Calls.Where(c => c.StartsWith("relist-sockets ", StringComparison.Ordinal)));
        Assert.Contains("relist fun,s2", _door.Calls.Select(c => c.Replace("relist s2,fun", "relist fun,s2", StringComparison.Ordinal)));
        Assert.Equal(1, _door.CountOf("relist"));
        Assert.Equal(["fun", "s2"], _door.ListedListable().Order());
    }

    [Fact]
    public async Task AJoinWhoseListingFailsAfterALaterJoinTookOverThrowsButDoesNotUndoTheLaterJoin()
    {
        await ConnectAsync("s1");
        _door.HoldListings();
        var first = JoinAsync("s1", "fun");
        await ChangeAsync("s1", MembershipChange.Leaving(["fun"]));
        var second = JoinAsync("s1", "fun"); // decides on undoing from now on; waits for the listing in flight

        _door.FailNextListingWith = new TimeoutException("late");
        _door.Release();
        await Assert.ThrowsAsync<TimeoutException>(() => first.WaitAsync(Bound));

        await second.WaitAsync(Bound); // it listed the room again itself, and so holds
        Assert.Equal(["fun", "s1"], _membership.RoomsOf("s1")!.Order());
        Assert.True(_membership.IsListed("fun"));
    }

    private async Task ConnectAsync(params string[] ids)
    {
        foreach (var id in ids)
        {
            _membership.AddSocket(id);
        }
    }

    private Task JoinAsync(string socketId, string room) => ChangeAsync(socketId, MembershipChange.Joining([room]));

    private async Task ChangeAsync(string socketId, MembershipChange change) => Assert.True(await _membership.ChangeAsync(socketId, change));
}
