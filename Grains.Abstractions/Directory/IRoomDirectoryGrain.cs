namespace Orleans.Rooms.Directory;

/// <summary>
/// One shard of the list of rooms that have members (own-id rooms excluded), kept in ordinal order so
/// that listing can page with a cursor. Rooms are spread over <see cref="RoomDirectory.ShardCount"/> shards.
/// </summary>
[Alias("rooms.IRoomDirectoryGrain")]
public interface IRoomDirectoryGrain : IGrainWithIntegerKey
{
    [Alias("Add")]
    Task Add(string room);

    [Alias("Remove")]
    Task Remove(string room);

    /// <summary>Up to <paramref name="limit"/> rooms ordinally after <paramref name="after"/> (from the start when null).</summary>
    [Alias("Page")]
    Task<string[]> Page(string? after, int limit);
}

public static class RoomDirectory
{
    public const int ShardCount = 16;

    /// <summary>The shard that lists <paramref name="room"/>: a stable hash, the same in every process.</summary>
    public static long ShardOf(string room)
    {
        // FNV-1a over the UTF-16 code units: string.GetHashCode is randomized per process, this is not.
        var hash = 2166136261u;
        foreach (var c in room)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash % ShardCount;
    }

    public static IRoomDirectoryGrain ShardFor(this IGrainFactory grains, string room)
        => grains.GetGrainByKey<IRoomDirectoryGrain>(ShardOf(room));
}
