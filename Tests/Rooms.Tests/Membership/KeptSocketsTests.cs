using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Tests.Membership;

/// <summary>
/// What a front-end grain keeps so that a resumable socket outlives its front end (docs/design.md, "Surviving a
/// front end"), with <c>new</c> and a fake clock: which kept events were for a socket is decided by the rooms it had
/// at each event's position, only its last two tokens resume it, and a resume that may need a dropped event is refused.
/// </summary>
public sealed class KeptSocketsTests
{
    private static readonly TimeSpan KeepFor = TimeSpan.FromSeconds(25);
    private static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] Previous = RandomNumberGenerator.GetBytes(32);

    private readonly FakeTimeProvider _time = new();
    private readonly KeptSockets _kept;

    public KeptSocketsTests() => _kept = new KeptSockets(_time);

    [Fact]
    public void AnEventIsForASocketOnlyWhileItWasInOneOfItsRooms()
    {
        Commit([new SocketRecord("s", ["s"], [Hash(Secret)])], Batch("before", "a"));
        Commit([new SocketRecord("s", ["s", "a"], null)], Batch("in-a", "a"), Batch("in-b", "b"), Batch("to-s", "s"));
        Commit([new SocketRecord("s", ["s"], null)], Batch("after-leave", "a"));
        Commit([], Batch("blast", null), Batch("excepted", "s", except: "s"));

        Assert.NotNull(_kept.Begin("s", Secret, "fe2"));
        var handOver = _kept.End("s", "fe2");

        Assert.NotNull(handOver);
        Assert.True(handOver.FromRecord);
        Assert.Equal(["in-a", "to-s", "blast"], handOver.Events.Select(e => e.EventName));
        Assert.All(handOver.Events, e => Assert.Equal(0, e.Seq));
        Assert.Equal(["s"], handOver.Rooms);
        Assert.Equal(0, _kept.Sockets);
    }

    [Fact]
    public void ASocketsPresenceEntriesAsLastRecordedGoWithItsRecord()
    {
        var entry = new Orleans.Rooms.Presence.PresenceEntry("a", "ann", "{\"ref\":\"s\"}"u8.ToArray());
        Commit([new SocketRecord("s", ["s", "a"], [Hash(Secret)], [entry])]);
        Commit([new SocketRecord("s", ["s", "a", "b"], null, [entry, entry with { Room = "b" }])]);

        Assert.NotNull(_kept.Begin("s", Secret, "fe2"));
        var handOver = _kept.End("s", "fe2");

        Assert.Equal(["a", "b"], handOver!.Presence!.Select(p => p.Room));
        Assert.Equal("ann", handOver.Presence![1].Key);
    }

    [Fact]
    public void OnlyTheLastTwoTokensResumeASocketAndOnlyOnce()
    {
        Commit([new SocketRecord("s", ["s"], [Hash(Secret), Hash(Previous)])]);

        Assert.Null(_kept.Begin("s", RandomNumberGenerator.GetBytes(32), "fe2"));
        Assert.Null(_kept.Begin("unknown", Secret, "fe2"));
        Assert.Equal(["s"], _kept.Begin("s", Previous, "fe2")!);
        Assert.Null(_kept.Begin("s", Secret, "fe3")); // another front end is taking it over already
        _kept.Abort("s", "fe2");
        Assert.Equal(["s"], _kept.Begin("s", Secret, "fe3")!);
        Assert.NotNull(_kept.End("s", "fe3"));
        Assert.Null(_kept.Begin("s", Secret, "fe2"));
    }

    [Fact]
    public void EventsOlderThanAResumeNeedsAreDroppedAndNothingIsKeptWithoutASocket()
    {
        Commit([], Batch("nobody-to-keep-it-for", "a"));
        Assert.Equal(0, _kept.Events);

        Commit([new SocketRecord("s", ["s", "a"], [Hash(Secret)])], Batch("old", "a"));
        _time.Advance(KeepFor + TimeSpan.FromSeconds(1));
        Commit([], Batch("new", "a"), Batch("not-its-room", "b"));

        Assert.Equal(1, _kept.Events);
        _kept.Begin("s", Secret, "fe2");
        Assert.Equal(["new"], _kept.End("s", "fe2")!.Events.Select(e => e.EventName));
    }

    [Fact]
    public void AResumeThatMayNeedAnEventDroppedForWantOfRoomIsRefused()
    {
        var payload = new byte[40 * 1024];
        Commit([new SocketRecord("s", ["s", "a"], [Hash(Secret)])]);
        for (var i = 0; i < 3; i++)
        {
            _kept.Apply(new FrontEndJournal([], [new DeliveryBatch("big", payload, ["a"], null, Guid.NewGuid())], KeepFor, 64 * 1024));
        }

        Assert.True(_kept.Bytes <= 64 * 1024);
        Assert.NotNull(_kept.Begin("s", Secret, "fe2"));
        Assert.Null(_kept.End("s", "fe2"));
    }

    private void Commit(SocketRecord[] records, params DeliveryBatch[] delivered)
        => _kept.Apply(new FrontEndJournal(records, delivered, KeepFor, 16 * 1024 * 1024));

    private static DeliveryBatch Batch(string name, string? room, string? except = null)
        => new(name, "null"u8.ToArray(), room is null ? null : [room], except is null ? null : [except], Guid.NewGuid());

    private static byte[] Hash(byte[] secret) => SHA256.HashData(secret);
}
