using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// The batches this front end took from its front-end grain lately, so that one sent again is taken once. The
/// grain sends a batch again when a call carrying it timed out (docs/design.md, "A front end its grain cannot
/// reach"): it may have arrived, and only the front end knows. A batch is known by its broadcast id and its
/// targets (a broadcast's batch that follows a moving socket here has the same id, for other targets). The last
/// <see cref="Capacity"/> are remembered: what a timed-out call carried was sent before the calls that found the
/// front end unreachable, which are held rather than sent, so few batches come between it and its second sending.
/// </summary>
internal sealed class TakenBatches
{
    public const int Capacity = 4096;

    private readonly HashSet<(Guid Id, int Targets)> _taken = new(Capacity);
    private readonly (Guid Id, int Targets)[] _order = new (Guid, int)[Capacity];
    private readonly Lock _lock = new();
    private int _next;

    /// <summary>True the first time a batch is seen; false when it was taken already (among the last <see cref="Capacity"/>).</summary>
    public bool TryTake(DeliveryBatch batch)
    {
        var key = (batch.Id, Targets(batch));
        lock (_lock)
        {
            if (!_taken.Add(key))
            {
                return false;
            }

            if (_taken.Count > Capacity)
            {
                _taken.Remove(_order[_next]);
            }

            _order[_next] = key;
            _next = (_next + 1) % Capacity;
            return true;
        }
    }

    private static int Targets(DeliveryBatch batch)
    {
        var hash = new HashCode();
        hash.Add(batch.Rooms is null ? -1 : batch.Rooms.Length);
        foreach (var room in batch.Rooms ?? [])
        {
            hash.Add(room, StringComparer.Ordinal);
        }

        hash.Add(batch.Except is null ? -1 : batch.Except.Length);
        foreach (var socket in batch.Except ?? [])
        {
            hash.Add(socket, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }
}
