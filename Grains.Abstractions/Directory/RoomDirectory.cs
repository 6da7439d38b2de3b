namespace Orleans.Rooms.Directory;

/// <summary>Which directory shard lists a room: the same stable hash in every process.</summary>
internal static class RoomDirectory
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
