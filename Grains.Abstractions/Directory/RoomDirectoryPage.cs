namespace Orleans.Rooms.Directory;

/// <summary>
/// A page of one directory shard, and whether the shard can be trusted whole: not while it may have lost its
/// memory with a silo (docs/design.md, "Healing"); a reader then also asks the front ends for their rooms of it.
/// </summary>
[GenerateSerializer, Immutable, Alias("rooms.RoomDirectoryPage")]
internal sealed record RoomDirectoryPage([property: Id(0)] string[] Rooms, [property: Id(1)] bool Complete);
