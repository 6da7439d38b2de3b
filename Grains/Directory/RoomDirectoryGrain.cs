using Orleans.Placement;
using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Directory;

/// <summary>
/// One shard of the room list, in ordinal order. Calls no other grain. Rebuilt by the room grains that the
/// front ends list again after a silo loss; a shard activated in that window says its pages may be partial.
/// </summary>
[KeepAlive] // the list lives in memory
[Immovable] // its state lives in memory only: a migration (rebalancer, repartitioner) would lose it
internal sealed class RoomDirectoryGrain(TimeProvider time, ClusterHealing healing) : Grain, IRoomDirectoryGrain
{
    private readonly SortedSet<string> _rooms = new(StringComparer.Ordinal);
    private long? _incompleteUntil;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _incompleteUntil = healing.WindowEnds();
        return Task.CompletedTask;
    }

    public Task Add(string room)
    {
        _rooms.Add(room);
        return Task.CompletedTask;
    }

    public Task Remove(string room)
    {
        _rooms.Remove(room);
        return Task.CompletedTask;
    }

    public Task<RoomDirectoryPage> Page(string? after, int limit)
    {
        if (_incompleteUntil is { } until && time.GetTimestamp() >= until)
        {
            _incompleteUntil = null;
        }

        return Task.FromResult(new RoomDirectoryPage(PageOf(after, limit), Complete: _incompleteUntil is null));
    }

    private string[] PageOf(string? after, int limit)
    {
        if (_rooms.Count == 0 || limit <= 0)
        {
            return [];
        }

        IEnumerable<string> view = _rooms;
        if (after is not null)
        {
            if (StringComparer.Ordinal.Compare(after, _rooms.Max) >= 0)
            {
                return [];
            }

            view = _rooms.GetViewBetween(after, _rooms.Max!).Where(r => r != after);
        }

        return [.. view.Take(limit)];
    }
}
