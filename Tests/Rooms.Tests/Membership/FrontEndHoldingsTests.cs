using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Tests.Membership;

/// <summary>The store a silo's sweeper reads (docs/design.md, "Sweeping"), with <c>new</c> and no cluster.</summary>
public sealed class FrontEndHoldingsTests
{
    [Fact]
    public void AFrontEndIsHeldWhileAnyOfItsRoomsOrSocketsIsAndForgottenWithTheLast()
    {
        var holdings = new FrontEndHoldings();
        holdings.HoldRoom("fe", "r1");
        holdings.HoldSocket("fe", "s1");
        holdings.HoldPresence("fe", "r2");
        holdings.HoldRoom("other", "r1");

        Assert.Equal(["fe", "other"], holdings.FrontEnds().Order());
        var (rooms, sockets, presence) = holdings.Of("fe");
        Assert.Equal(["r1"], rooms);
        Assert.Equal(["s1"], sockets);
        Assert.Equal(["r2"], presence);

        holdings.ReleaseRoom("fe", "r1");
        Assert.Contains("fe", holdings.FrontEnds());
        holdings.ReleaseSocket("fe", "s1");
        Assert.Contains("fe", holdings.FrontEnds());
        holdings.ReleasePresence("fe", "r2");
        Assert.Equal(["other"], holdings.FrontEnds());
        (rooms, sockets, presence) = holdings.Of("fe");
        Assert.Empty(rooms);
        Assert.Empty(sockets);
        Assert.Empty(presence);
    }

    [Fact]
    public void AHoldAfterTheSweepsDecisionIsNotSwept()
    {
        var holdings = new FrontEndHoldings();
        holdings.HoldRoom("fe", "r1");
        holdings.HoldSocket("fe", "s1");
        var decidedAt = holdings.Sequence;

        Assert.True(holdings.RoomHeldUpTo("fe", "r1", decidedAt));
        Assert.True(holdings.SocketHeldUpTo("fe", "s1", decidedAt));

        // The front end came back and listed itself again (a repeated Add, a relisted socket).
        holdings.HoldRoom("fe", "r1");
        holdings.HoldSocket("fe", "s1");
        Assert.False(holdings.RoomHeldUpTo("fe", "r1", decidedAt));
        Assert.False(holdings.SocketHeldUpTo("fe", "s1", decidedAt));
        Assert.False(holdings.RoomHeldUpTo("fe", "r2", decidedAt)); // not held here at all
    }
}
