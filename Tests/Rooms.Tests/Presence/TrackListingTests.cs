using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Presence;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.Tests.Shared;

namespace Orleans.Rooms.Tests.Presence;

/// <summary>
/// A track that joins a room new to its front end (docs/presence.md, "Cost"): the front end's listing in the room
/// rides with the entry, so the track costs one call to the cluster, as a join does; and when that call fails, the
/// join and the entry are both undone. The real front end's core (<see cref="LocalFrontEnd"/>, its memberships and
/// presence) against a fake door that counts every call.
/// </summary>
public sealed class TrackListingTests : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly FakeDoor _door = new();
    private readonly FrontEndMembership _membership;
    private readonly FrontEndPresence _presence;
    private readonly LocalFrontEnd _frontEnd;

    public TrackListingTests()
    {
        var metrics = TestMetrics.Create();
        _membership = new FrontEndMembership(_door, Options.Create(new RoomsOptions()), Options.Create(new FrontEndOptions()), new FakeTimeProvider(), metrics, NullLogger<FrontEndMembership>.Instance);
        var outbox = new NoSockets();
        _presence = new FrontEndPresence(_door, outbox, _membership, Options.Create(new PresenceOptions()), NullLogger<FrontEndPresence>.Instance);
        var journal = new SocketJournal(_door, Options.Create(new FrontEndOptions()), Options.Create(new RoomsOptions()), NullLogger<SocketJournal>.Instance);
        _frontEnd = new LocalFrontEnd("fe-test", _membership, _presence, outbox, new NoHandOvers(), journal, _door, metrics, NullLogger<LocalFrontEnd>.Instance);
        _membership.AddSocket("s1");
        _membership.AddSocket("s2");
    }

    public ValueTask DisposeAsync() => _membership.DisposeAsync();

    [Fact]
    public async Task ATrackThatJoinsARoomNewHereListsItInTheEntrysOwnCallAndATrackInAListedRoomCostsTheEntryAlone()
    {
        Assert.True(await _frontEnd.Change("s1", Tracking("fun", "alice")).WaitAsync(Bound));

        Assert.Equal(["presence fun list +s1"], _door.Calls);
        Assert.Equal(["fun"], _door.ListedListable());
        Assert.True(_membership.IsListed("fun"));
        Assert.True(_membership.IsIn("s1", "fun"));
        Assert.Equal("alice", Assert.Single(_presence.EntriesOf("s1")).Key);

        Assert.True(await _frontEnd.Change("s2", Tracking("fun", "bob")).WaitAsync(Bound));

        Assert.Equal(["presence fun list +s1", "presence fun +s2"], _door.Calls);
    }

    [Fact]
    public async Task WhenTheCallCarryingTheListingFailsTheJoinAndTheEntryAreBothUndone()
    {
        _door.FailListingsWith = new TimeoutException("no answer");

        var error = await Assert.ThrowsAsync<TimeoutException>(() => _frontEnd.Change("s1", Tracking("fun", "alice")).WaitAsync(Bound));

        Assert.Equal("no answer", error.Message);
        Assert.False(_membership.IsIn("s1", "fun"));
        Assert.Empty(_presence.EntriesOf("s1"));
        Assert.Equal(0, _presence.Count);

        // The entry may have reached the room grain before the reply was lost: its leave is sent, once.
        await Eventually.HoldsAsync(() => Task.FromResult(_door.Calls.Contains("presence fun -s1")), "the untrack of the entry sent", Bound);
        Assert.Equal(["presence fun list +s1", "presence fun -s1"], _door.Calls);

        // A track after the failure lists the room again, and holds.
        _door.FailListingsWith = null;
        Assert.True(await _frontEnd.Change("s1", Tracking("fun", "alice")).WaitAsync(Bound));
        Assert.Equal("presence fun list +s1", _door.Calls.Last());
        Assert.True(_membership.IsIn("s1", "fun"));
    }

    private static MembershipChange Tracking(string room, string key) => MembershipChange.Tracking(room, key, """{"at":"home"}"""u8.ToArray());

    private sealed class NoSockets : ISocketOutbox
    {
        public bool Send(string socketId, OutgoingEvent message) => true;

        public int SendToAll(OutgoingEvent message, string[]? except) => 0;
    }

    private sealed class NoHandOvers : ISocketHandOvers
    {
        public bool HoldsResumable => false;

        public bool IsKeptInCluster(string socketId) => false;

        public IReadOnlyList<(string SocketId, string ToFrontEnd)> MovedAwayIn(DeliveryBatch batch) => [];

        public Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd) => throw new NotSupportedException();

        public Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd) => throw new NotSupportedException();

        public Task AbortHandOver(string socketId, string toFrontEnd) => throw new NotSupportedException();
    }
}
