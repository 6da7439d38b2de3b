using Orleans.Rooms.Cluster;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Tests.Faults;

/// <summary>
/// What a front-end grain holds for a live front end that does not answer, and what the front end remembers so that
/// a batch sent twice is taken once (docs/design.md, "A front end its grain cannot reach"), with <c>new</c>: the bounds
/// of each, and the order kept.
/// </summary>
public sealed class HeldBatchesTests
{
    [Fact]
    public void HeldBatchesGoInTheOrderTheyCameInCallsOfAtMostTheirBoundAndTheOldestGoBeyondTheirBytes()
    {
        var held = new HeldBatches();
        var quarter = (int)(HeldBatches.CallBytes / 4);
        var batches = Enumerable.Range(0, 6).Select(i => Batch($"b{i}", quarter)).ToArray();
        Assert.Equal((0, 0L), held.Hold(batches[..2]));
        Assert.Equal((0, 0L), held.Hold(batches[2..]));

        // Four quarters of a call's bytes fill one call; the rest go in the next.
        var first = held.Peek();
        Assert.Equal(["b0", "b1", "b2", "b3"], first.Select(b => b.EventName));
        held.Remove(first);
        Assert.Equal(["b4", "b5"], held.Peek().Select(b => b.EventName));

        // One batch bigger than a call's bytes still goes, alone.
        held.Clear();
        held.Hold([Batch("big", (int)HeldBatches.CallBytes * 2), Batch("small", 1)]);
        Assert.Equal(["big"], held.Peek().Select(b => b.EventName));

        // Beyond the bound, the oldest go, and the grain is told how many.
        held.Clear();
        var part = (int)(HeldBatches.MaxBytes / 64);
        held.Hold([.. Enumerable.Range(0, 64).Select(i => Batch($"old{i}", part))]);
        var sending = held.Peek();
        Assert.Equal(["old0", "old1", "old2", "old3"], sending.Select(b => b.EventName));
        Assert.Equal((2, 2L * part), held.Hold([Batch("new0", part), Batch("new1", part)]));
        Assert.Equal(64, held.Count);
        Assert.Equal(HeldBatches.MaxBytes, held.Bytes);

        // A call that was on its way when they went takes off only those of it still held.
        held.Remove(sending);
        Assert.Equal(62, held.Count);
        Assert.Equal("old4", held.Peek()[0].EventName);
    }

    [Fact]
    public void AFrontEndTakesABatchOnceByItsBroadcastAndTargetsAndRemembersTheLastFewThousand()
    {
        var taken = new TakenBatches();
        var id = Guid.NewGuid();
        var toRoom = new DeliveryBatch("e", [1], ["room"], null, id);

        Assert.True(taken.TryTake(toRoom));
        Assert.False(taken.TryTake(toRoom with { Payload = [1] })); // the same batch, sent again (a new copy, as deserialized)

        // The same broadcast to other targets (it follows a socket that moved here) is another batch.
        Assert.True(taken.TryTake(toRoom with { Rooms = ["socket-1"] }));
        Assert.True(taken.TryTake(toRoom with { Except = ["socket-2"] }));
        Assert.True(taken.TryTake(toRoom with { Rooms = null }));

        // Only the last Capacity are remembered.
        for (var i = 0; i < TakenBatches.Capacity; i++)
        {
            Assert.True(taken.TryTake(new DeliveryBatch("e", [1], ["room"], null, Guid.NewGuid())));
        }

        Assert.True(taken.TryTake(toRoom));
    }

    private static DeliveryBatch Batch(string name, int bytes) => new(name, new byte[bytes], ["room"], null, Guid.NewGuid());
}
