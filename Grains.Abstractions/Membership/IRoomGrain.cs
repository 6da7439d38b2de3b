namespace Orleans.Rooms.Membership;

/// <summary>
/// One room, keyed by its name. Holds the members grouped by the front end that holds them, so that a
/// broadcast costs one message per front end. Only socket grains change it (see <see cref="ISocketGrain"/>);
/// it calls nothing but the room directory, never a socket grain. Add and Remove are idempotent.
/// </summary>
[Alias("rooms.IRoomGrain")]
public interface IRoomGrain : IGrainWithStringKey
{
    /// <summary>Adds the member; with <paramref name="relist"/> (a rebuild) also lists the room in the directory again.</summary>
    [Alias("Add")]
    Task Add(string socketId, string frontEndId, bool relist = false);

    [Alias("Remove")]
    Task Remove(string socketId, string frontEndId);

    /// <summary>Whether the room has members now (the room list keeps an emptied room listed for a moment).</summary>
    [Alias("HasMembers")]
    Task<bool> HasMembers();

    [Alias("GetMembers")]
    Task<RoomMembers> GetMembers(CancellationToken cancellationToken = default);
}

/// <summary>The members of a room, grouped by front end. Immutable: a snapshot shared between callers.</summary>
[GenerateSerializer, Immutable, Alias("rooms.RoomMembers")]
public sealed record RoomMembers([property: Id(0)] FrontEndMembers[] ByFrontEnd)
{
    public static RoomMembers Empty { get; } = new([]);
}

/// <summary>The members of a room that one front end holds.</summary>
[GenerateSerializer, Immutable, Alias("rooms.FrontEndMembers")]
public sealed record FrontEndMembers([property: Id(0)] string FrontEndId, [property: Id(1)] string[] SocketIds);
