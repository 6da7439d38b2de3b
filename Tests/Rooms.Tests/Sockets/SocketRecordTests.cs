using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.Tests.Sockets;

/// <summary>
/// The front end's record of a socket's rooms takes notices (changes made for others) and the answers to its
/// own calls, which may arrive out of the order the grain made them in; the grain's sequence numbers decide.
/// </summary>
public sealed class SocketRecordTests
{
    private const string Socket = "s1";

    [Fact]
    public void AJoinIsRecordedFromBeforeTheCallAndStaysWhenAnswered()
    {
        var record = new SocketRecord(Socket);

        record.BeginOwnChange(["a"]);
        Assert.Equal(["a", Socket], Rooms(record));

        record.EndOwnChange(["a"], new RoomsChange(1, ["a"], []), null);
        Assert.Equal(["a", Socket], Rooms(record));
        Assert.Equal(1, record.Snapshot().Sequence);
    }

    [Fact]
    public void AnOwnLeaveAnsweredAfterANewerNoticedJoinOfTheSameRoomKeepsTheRoom()
    {
        var record = new SocketRecord(Socket);
        record.Apply(new RoomsChange(1, ["a"], []));

        // The grain: our leave (2), then someone else's join (3). The notice of 3 arrives before the answer to 2.
        record.BeginOwnChange([]);
        record.Apply(new RoomsChange(3, ["a"], []));
        record.EndOwnChange([], new RoomsChange(2, [], ["a"]), null);

        Assert.Equal(["a", Socket], Rooms(record));
    }

    [Fact]
    public void AnOwnJoinAnsweredAfterANewerNoticedLeaveOfTheSameRoomDropsTheRoom()
    {
        var record = new SocketRecord(Socket);

        // The grain: our join (1), then someone else's leave (2), noticed before the answer to 1.
        record.BeginOwnChange(["a"]);
        record.Apply(new RoomsChange(2, [], ["a"]));
        Assert.Contains("a", Rooms(record)); // still joining: recorded until the answer
        record.EndOwnChange(["a"], new RoomsChange(1, ["a"], []), null);

        Assert.Equal([Socket], Rooms(record));
    }

    [Fact]
    public void TwoOwnChangesAnsweredInReverseOrderEndWithTheLater()
    {
        var record = new SocketRecord(Socket);

        record.BeginOwnChange(["a"]); // join: grain's change 1
        record.BeginOwnChange([]);    // leave: grain's change 2
        record.EndOwnChange([], new RoomsChange(2, [], ["a"]), null);
        record.EndOwnChange(["a"], new RoomsChange(1, ["a"], []), null);

        Assert.Equal([Socket], Rooms(record));

        // Nothing in flight any more: the next change applies whatever its number.
        record.Apply(new RoomsChange(3, ["a"], []));
        Assert.Equal(["a", Socket], Rooms(record));
    }

    [Fact]
    public void AFailedOwnJoinTakesWhatTheGrainHoldsAndKeepsTheJoinWhenEvenThatIsUnknown()
    {
        var undone = new SocketRecord(Socket);
        undone.BeginOwnChange(["a", "b"]);
        undone.EndOwnChange(["a", "b"], null, new RoomsSnapshot(2, [Socket, "b"]));
        Assert.Equal(["b", Socket], Rooms(undone));

        var unknown = new SocketRecord(Socket);
        unknown.BeginOwnChange(["a"]);
        unknown.EndOwnChange(["a"], null, null);
        Assert.Equal(["a", Socket], Rooms(unknown));
    }

    [Fact]
    public void AReadOfTheGrainOlderThanANoticeDoesNotUndoTheNotice()
    {
        var record = new SocketRecord(Socket);
        record.BeginOwnChange(["a"]);
        record.Apply(new RoomsChange(5, ["c"], []));
        record.EndOwnChange(["a"], null, new RoomsSnapshot(4, [Socket, "a"]));

        Assert.Equal(["a", "c", Socket], Rooms(record));
    }

    private static string[] Rooms(SocketRecord record) => [.. record.Snapshot().Rooms.Order(StringComparer.Ordinal)];
}
