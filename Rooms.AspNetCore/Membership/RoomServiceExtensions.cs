namespace Orleans.Rooms.Membership;

/// <summary>The one-room forms Sails also accepts ("a room name or an array of them").</summary>
public static class RoomServiceExtensions
{
    /// <summary>Broadcasts to one room: <see cref="IRoomService.BroadcastAsync(IEnumerable{string}, string?, object?, SocketTarget?, CancellationToken)"/>.</summary>
    public static Task BroadcastAsync(this IRoomService rooms, string room, string? eventName, object? data, SocketTarget? except = null, CancellationToken cancellationToken = default)
        => rooms.BroadcastAsync([room], eventName, data, except, cancellationToken);

    /// <summary>Adds the members of <paramref name="sourceRoom"/> to one room: <see cref="IRoomService.AddRoomMembersToRoomsAsync(string, IEnumerable{string}, CancellationToken)"/>.</summary>
    public static Task AddRoomMembersToRoomsAsync(this IRoomService rooms, string sourceRoom, string destRoom, CancellationToken cancellationToken = default)
        => rooms.AddRoomMembersToRoomsAsync(sourceRoom, [destRoom], cancellationToken);

    /// <summary>Removes the members of <paramref name="sourceRoom"/> from one room: <see cref="IRoomService.RemoveRoomMembersFromRoomsAsync(string, IEnumerable{string}, CancellationToken)"/>.</summary>
    public static Task RemoveRoomMembersFromRoomsAsync(this IRoomService rooms, string sourceRoom, string destRoom, CancellationToken cancellationToken = default)
        => rooms.RemoveRoomMembersFromRoomsAsync(sourceRoom, [destRoom], cancellationToken);
}
