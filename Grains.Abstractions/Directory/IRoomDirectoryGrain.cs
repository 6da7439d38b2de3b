namespace Orleans.Rooms.Directory;

/// <summary>
/// One shard of the list of rooms that have members (own-id rooms excluded), kept in ordinal order so
/// that listing can page with a cursor. Rooms are spread over <see cref="RoomDirectory.ShardCount"/> shards.
/// </summary>
[Alias("rooms.IRoomDirectoryGrain")]
internal interface IRoomDirectoryGrain : IGrainWithIntegerKey
{
    [Alias("Add")]
    Task Add(string room);

    [Alias("Remove")]
    Task Remove(string room);

    /// <summary>
    /// Up to <paramref name="limit"/> rooms ordinally after <paramref name="after"/> (from the start when null),
    /// and whether the shard is whole (not while a shard activated as the cluster heals may be refilling).
    /// </summary>
    [Alias("Page")]
    Task<RoomDirectoryPage> Page(string? after, int limit);
}
