using Orleans.Placement;

namespace Orleans.Rooms.Directory;

/// <summary>One shard of the room list, in ordinal order. Calls no other grain.</summary>
[KeepAlive] // the list lives in memory
[Immovable] // its state lives in memory only: a migration (rebalancer, repartitioner) would lose it
internal sealed class RoomDirectoryGrain : Grain, IRoomDirectoryGrain
{
    private readonly SortedSet<string> _rooms = new(StringComparer.Ordinal);

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

    public Task<string[]> Page(string? after, int limit)
    {
        if (_rooms.Count == 0 || limit <= 0)
        {
            return Task.FromResult(Array.Empty<string>());
        }

        IEnumerable<string> view = _rooms;
        if (after is not null)
        {
            if (StringComparer.Ordinal.Compare(after, _rooms.Max) >= 0)
            {
                return Task.FromResult(Array.Empty<string>());
            }

            view = _rooms.GetViewBetween(after, _rooms.Max!).Where(r => r != after);
        }

        return Task.FromResult(view.Take(limit).ToArray());
    }
}
