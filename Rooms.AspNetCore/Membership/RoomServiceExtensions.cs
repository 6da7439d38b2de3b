namespace Orleans.Rooms.Membership;

/// <summary>The one-room forms Sails also accepts ("a room name or an array of them").</summary>
public static class RoomServiceExtensions
{
    public static Task BroadcastAsync(this IRoomService rooms, string room, string? eventName, object? data, SocketTarget? except = null, CancellationToken cancellationToken = default)
        => rooms.BroadcastAsync([room], eventName, data, except, cancellationToken);

    public static Task AddRoomMembersToRoomsAsync(this IRoomService rooms, string sourceRoom, string destRoom, CancellationToken cancellationToken = default)
        => rooms.AddRoomMembersToRoomsAsync(sourceRoom, [destRoom], cancellationToken);

    public static Task RemoveRoomMembersFromRoomsAsync(this IRoomService rooms, string sourceRoom, string destRoom, CancellationToken cancellationToken = default)
        => rooms.RemoveRoomMembersFromRoomsAsync(sourceRoom, [destRoom], cancellationToken);
}
