using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// The batches a front-end grain holds for its front end while the front end, alive (its lease current), does not
/// answer: in the order they came, at most <see cref="MaxBytes"/> of payload (beyond that the oldest go, and the
/// grain says so), handed out in calls of at most <see cref="CallBytes"/> or <see cref="CallBatches"/>.
/// Pure and synchronous: its grain touches it between awaits only.
/// </summary>
internal sealed class HeldBatches
{
    public const long MaxBytes = 16 * 1024 * 1024;

    public const long CallBytes = 1024 * 1024;

    public const int CallBatches = 1024;

    private readonly Queue<DeliveryBatch> _batches = new();
    private long _bytes;

    public int Count => _batches.Count;

    public long Bytes => _bytes;

    /// <summary>Holds the batches behind those held already; what had to go to stay within the bound (batches, bytes).</summary>
    public (int Lost, long Bytes) Hold(DeliveryBatch[] batches)
    {
        foreach (var batch in batches)
        {
            _batches.Enqueue(batch);
            _bytes += batch.Payload.Length;
        }

        var (lost, lostBytes) = (0, 0L);
        while (_bytes > MaxBytes && _batches.TryDequeue(out var oldest))
        {
            _bytes -= oldest.Payload.Length;
            lost++;
            lostBytes += oldest.Payload.Length;
        }

        return (lost, lostBytes);
    }

    /// <summary>The oldest held batches, as many as one call carries (at least one); they stay held until <see cref="Remove"/>.</summary>
    public DeliveryBatch[] Peek()
    {
        var next = new List<DeliveryBatch>();
        var bytes = 0L;
        foreach (var batch in _batches)
        {
            if (next.Count == CallBatches || (next.Count > 0 && bytes + batch.Payload.Length > CallBytes))
            {
                break;
            }

            next.Add(batch);
            bytes += batch.Payload.Length;
        }

        return [.. next];
    }

    /// <summary>Forgets those of <paramref name="sent"/> (from <see cref="Peek"/>) still held: they reached the front end. Some may have gone meanwhile, to the bound or a purge.</summary>
    public void Remove(DeliveryBatch[] sent)
    {
        foreach (var batch in sent)
        {
            if (_batches.TryPeek(out var oldest) && ReferenceEquals(oldest, batch))
            {
                _batches.Dequeue();
                _bytes -= batch.Payload.Length;
            }
        }
    }

    public void Clear()
    {
        _batches.Clear();
        _bytes = 0;
    }
}
