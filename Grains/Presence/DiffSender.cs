using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Presence;

/// <summary>
/// Sends the presence diffs of this silo's rooms to a front end in few calls (docs/presence.md, "How it works"): per
/// front end at most one <see cref="IFrontEndGrain.DeliverAll"/> in flight, and what rooms hand in meanwhile goes in the
/// next, in the order it came. Rooms that track at once flush at the same ticks of the <see cref="DiffClock"/>, so a
/// thousand sockets tracking in rooms of their own cost a few calls to their front end, not one (and its observer's
/// one) per room.
/// </summary>
/// <remarks>
/// A room hands in one diff at a time and waits for it (<see cref="PresenceSequencer"/>), so each room's diffs reach
/// each front end in order. Calls run off any grain's scheduler: a room grain waits on its own diff only, never on a
/// call that comes back to it. A call that did not reach the front end's grain (its silo stopping, a rejected
/// message: nothing was delivered) is made again, as a front end's own deliveries are, for
/// <see cref="GrainLimits.UndeliveredRetryFor"/>; its diffs fail together after that.
/// </remarks>
internal sealed class DiffSender(IGrainFactory grains, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<(DeliveryBatch Batch, TaskCompletionSource Sent)>> _queues = new(StringComparer.Ordinal);

    /// <summary>Completes once the diff was handed to the front end's grain (in a call with others queued beside it).</summary>
    public Task SendAsync(string frontEndId, DeliveryBatch batch)
    {
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_lock)
        {
            start = !_queues.TryGetValue(frontEndId, out var queue);
            if (start)
            {
                _queues[frontEndId] = queue = [];
            }

            queue!.Add((batch, sent));
        }

        if (start)
        {
            _ = Task.Run(() => SendQueuedAsync(frontEndId));
        }

        return sent.Task;
    }

    private async Task SendQueuedAsync(string frontEndId)
    {
        while (true)
        {
            (DeliveryBatch Batch, TaskCompletionSource Sent)[] items;
            lock (_lock)
            {
                var queue = _queues[frontEndId];
                if (queue.Count == 0)
                {
                    _queues.Remove(frontEndId);
                    return;
                }

                items = [.. queue];
                queue.Clear();
            }

            try
            {
                var batches = new DeliveryBatch[items.Length];
                for (var i = 0; i < items.Length; i++)
                {
                    batches[i] = items[i].Batch;
                }

                await DeliverAsync(frontEndId, batches);
                foreach (var item in items)
                {
                    item.Sent.TrySetResult();
                }
            }
            catch (Exception ex)
            {
                foreach (var item in items)
                {
                    item.Sent.TrySetException(ex);
                }
            }
        }
    }

    private async Task DeliverAsync(string frontEndId, DeliveryBatch[] batches)
    {
        var started = time.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await grains.GetGrainByKey<IFrontEndGrain>(frontEndId).DeliverAll(batches);
                return;
            }
            catch (Exception ex) when (ex is FrontEndNotReachedException or OrleansMessageRejectionException && time.GetElapsedTime(started) < GrainLimits.UndeliveredRetryFor)
            {
                await Task.Delay(delay, time);
                delay = delay * 2 > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : delay * 2;
            }
        }
    }
}
