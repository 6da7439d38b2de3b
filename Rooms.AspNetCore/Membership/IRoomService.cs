using Microsoft.AspNetCore.Http;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.Membership;

/// <summary>
/// The room API that app code calls: the C# counterpart of <c>sails.sockets.*</c>. Every call completes
/// only once the grains that own the membership have committed its effect, and throws when it failed
/// (Sails' <c>cb(err)</c>). "A socket" is a <see cref="SocketTarget"/>: an id, a socket request, or a list.
/// </summary>
public interface IRoomService
{
    /// <summary><c>sails.sockets.join</c>: adds the socket(s) to <paramref name="room"/>, wherever they are connected.</summary>
    Task JoinAsync(SocketTarget sockets, string room, CancellationToken cancellationToken = default);

    /// <summary><c>sails.sockets.leave</c>: removes the socket(s) from <paramref name="room"/>; not being in it is fine.</summary>
    Task LeaveAsync(SocketTarget sockets, string room, CancellationToken cancellationToken = default);

    /// <summary><c>sails.sockets.leaveAll</c>: every member of <paramref name="room"/> leaves every room it is in.</summary>
    Task LeaveAllAsync(string room, LeaveAllOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary><c>sails.sockets.addRoomMembersToRooms</c>: every member of <paramref name="sourceRoom"/> joins each of <paramref name="destRooms"/>.</summary>
    Task AddRoomMembersToRoomsAsync(string sourceRoom, IEnumerable<string> destRooms, CancellationToken cancellationToken = default);

    /// <summary><c>sails.sockets.removeRoomMembersFromRooms</c>: every member of <paramref name="sourceRoom"/> leaves each of <paramref name="destRooms"/>.</summary>
    Task RemoveRoomMembersFromRoomsAsync(string sourceRoom, IEnumerable<string> destRooms, CancellationToken cancellationToken = default);

    /// <summary>
    /// <c>sails.sockets.broadcast</c>: pushes <paramref name="eventName"/> (default <c>message</c>) with
    /// <paramref name="data"/> to every member of any of <paramref name="rooms"/>, each socket once, minus <paramref name="except"/>.
    /// </summary>
    Task BroadcastAsync(IEnumerable<string> rooms, string? eventName, object? data, SocketTarget? except = null, CancellationToken cancellationToken = default);

    /// <summary><c>sails.sockets.blast</c>: pushes to every connected socket in the cluster, minus <paramref name="except"/>.</summary>
    Task BlastAsync(string? eventName, object? data, SocketTarget? except = null, CancellationToken cancellationToken = default);

    /// <summary><c>sails.sockets.getId</c>: the socket id of a socket request; throws for a plain HTTP request.</summary>
    string GetId(HttpContext request);

    /// <summary><c>sails.sockets.subscribers</c>: the ids of every member of <paramref name="room"/>, across the cluster.</summary>
    Task<IReadOnlyList<string>> SubscribersAsync(string room, CancellationToken cancellationToken = default);

    /// <summary><c>sails.sockets.socketRooms</c>: the rooms the socket is in, its own-id room included.</summary>
    Task<IReadOnlyList<string>> SocketRoomsAsync(SocketTarget socket, CancellationToken cancellationToken = default);

    /// <summary>
    /// Presence (docs/presence.md): tracks the socket in <paramref name="room"/> under <paramref name="key"/> with
    /// <paramref name="meta"/> (a JSON object, at most <c>Rooms:Presence:MaxMetaBytes</c> serialized), joining the room
    /// first when it is not in it. A null key is the socket request's authenticated user (claim
    /// <c>nameidentifier</c>, else the name), else the socket's id. Tracking again replaces the key and meta. The
    /// socket is sent <c>presence_state</c>, and every member of the room a <c>presence_diff</c> with the join.
    /// </summary>
    Task TrackAsync(SocketTarget socket, string room, string? key = null, object? meta = null, CancellationToken cancellationToken = default);

    /// <summary>Stops tracking the socket in <paramref name="room"/> (a leave in the next diff); it stays a member. Not tracked there is fine.</summary>
    Task UntrackAsync(SocketTarget socket, string room, CancellationToken cancellationToken = default);

    /// <summary>Replaces the meta of a socket tracked in <paramref name="room"/> (a leave and a join of its <c>ref</c> in one diff).</summary>
    Task UpdatePresenceAsync(SocketTarget socket, string room, object? meta, CancellationToken cancellationToken = default);

    /// <summary>Who is in <paramref name="room"/>, across the cluster: every acknowledged track, each key with the metas of its sockets.</summary>
    Task<RoomPresence> PresenceAsync(string room, CancellationToken cancellationToken = default);

    /// <summary><c>sails.sockets.rooms</c>: one page of the rooms that have members, ordinal order, own-id rooms left out.</summary>
    Task<RoomPage> RoomsAsync(string? after = null, int limit = RoomPage.DefaultLimit, CancellationToken cancellationToken = default);
}
