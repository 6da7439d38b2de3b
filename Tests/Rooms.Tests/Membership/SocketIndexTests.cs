using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Tests.Membership;

/// <summary>The socket index alone: no cluster, no clock, no lock; the two indexes never disagree.</summary>
public sealed class SocketIndexTests
{
    private readonly SocketIndex _index = new();

    [Fact]
    public void ANewSocketIsAMemberOfItsOwnRoomOnly()
    {
        Assert.True(_index.AddSocket("s1"));

        Assert.Equal(["s1"], _index.RoomsOf("s1")!);
        Assert.Equal(["s1"], _index.MembersOf("s1"));
        Assert.Equal(0, _index.CountedRooms("s1"));
        Assert.False(_index.IsListable("s1"));
    }

    [Fact]
    public void AddingASocketHeldAlreadyChangesNothing()
    {
        _index.AddSocket("s1");
        _index.Join("s1", "fun");

        Assert.False(_index.AddSocket("s1"));
        Assert.Equal(["fun", "s1"], _index.RoomsOf("s1")!.Order());
    }

    [Fact]
    public void JoinAndLeaveChangeBothIndexesAndReportWhetherAnythingChanged()
    {
        _index.AddSocket("s1");
        _index.AddSocket("s2");

        Assert.True(_index.Join("s1", "fun"));
        Assert.False(_index.Join("s1", "fun"));
        Assert.True(_index.Join("s2", "fun"));
        Assert.Equal(["s1", "s2"], _index.MembersOf("fun").Order());
        Assert.True(_index.IsIn("s1", "fun"));
        Assert.Equal(1, _index.CountedRooms("s1"));

        Assert.True(_index.Leave("s1", "fun"));
        Assert.False(_index.Leave("s1", "fun"));
        Assert.Equal(["s2"], _index.MembersOf("fun"));
        Assert.Equal(["s1"], _index.RoomsOf("s1")!);
    }

    [Fact]
    public void ASocketNotHeldJoinsNothing()
    {
        Assert.False(_index.Join("ghost", "fun"));
        Assert.False(_index.HasMembers("fun"));
        Assert.Null(_index.RoomsOf("ghost"));
    }

    [Fact]
    public void ARoomIsIndexedWhileItHasMembersAndNoLonger()
    {
        _index.AddSocket("s1");
        _index.Join("s1", "fun");
        Assert.True(_index.HasMembers("fun"));

        _index.Leave("s1", "fun");

        Assert.False(_index.HasMembers("fun"));
        Assert.Empty(_index.MembersOf("fun"));
    }

    [Fact]
    public void RemovingASocketTakesItOutOfEveryRoomAndSaysWhichItWasIn()
    {
        _index.AddSocket("s1");
        _index.AddSocket("s2");
        _index.Join("s1", "a");
        _index.Join("s1", "b");
        _index.Join("s2", "b");

        Assert.Equal(["a", "b", "s1"], _index.RemoveSocket("s1")!.Order());

        Assert.False(_index.Holds("s1"));
        Assert.False(_index.HasMembers("a"));
        Assert.False(_index.HasMembers("s1"));
        Assert.Equal(["s2"], _index.MembersOf("b"));
        Assert.Null(_index.RemoveSocket("s1"));
        Assert.Equal(1, _index.Count);
    }

    [Fact]
    public void AnOwnIdRoomIsListableOnlyOnceAnotherSocketJoinsIt()
    {
        _index.AddSocket("s1");
        _index.AddSocket("s2");
        Assert.False(_index.IsListable("s1"));

        _index.Join("s2", "s1");

        Assert.True(_index.IsListable("s1"));
        _index.Leave("s2", "s1");
        Assert.False(_index.IsListable("s1"));
    }

    [Fact]
    public void RecipientsAreEachSocketOnceAcrossRoomsMinusTheExcepted()
    {
        _index.AddSocket("s1");
        _index.AddSocket("s2");
        _index.AddSocket("s3");
        _index.Join("s1", "a");
        _index.Join("s1", "b");
        _index.Join("s2", "b");
        _index.Join("s3", "c");

        Assert.Equal(["s1", "s2"], _index.Recipients(["a", "b"], null).Order());
        Assert.Equal(["s2"], _index.Recipients(["a", "b"], ["s1"]).Order());
        Assert.Equal(["s1", "s2"], _index.Recipients(["b"], null).Order());
        Assert.Empty(_index.Recipients(["nobody"], null));
    }

    [Fact]
    public void TheMembersArrayIsSharedUntilTheRoomChanges()
    {
        _index.AddSocket("s1");
        _index.Join("s1", "fun");
        var first = _index.MembersOf("fun");

        Assert.Same(first, _index.MembersOf("fun"));
        _index.AddSocket("s2");
        _index.Join("s2", "fun");
        Assert.NotSame(first, _index.MembersOf("fun"));
        Assert.Equal(["s1"], first);
    }
}
