using Orleans.Rooms.Membership;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// Implemented by each front end. The front end holds its sockets' connections and their memberships: which
/// rooms each socket is in, and which of its sockets each room has. Room grains know only which front ends
/// hold members, so a socket joining a room its front end already holds members of is a change on that front
/// end alone. Changes asked for by others reach the front end here (through its front-end grain), and so do
/// broadcasts: one batch per front end, resolved to local sockets on arrival.
/// </summary>
/// <remarks>
/// Reads answer from memory, with short response timeouts: a dead front end must not hold a broadcast or a
/// listing for the default 30 s (its lease lapses and it is purged instead). Changes may list the front end in
/// a room first (a grain call), so they get longer.
/// </remarks>
[Alias("rooms.IFrontEndObserver")]
internal interface IFrontEndObserver : IGrainObserver
{
    [Alias("Deliver"), ResponseTimeout("00:00:02")]
    Task Deliver(DeliveryBatch batch);

    /// <summary><see cref="Deliver"/> of several batches, in order.</summary>
    [Alias("DeliverAll"), ResponseTimeout("00:00:02")]
    Task DeliverAll(DeliveryBatch[] batches);

    /// <summary>Changes the rooms of <paramref name="socketId"/>; false when this front end does not hold it.</summary>
    [Alias("Change"), ResponseTimeout("00:00:10")]
    Task<bool> Change(string socketId, MembershipChange change);

    /// <summary>Changes the rooms of every socket of this front end that is in <paramref name="room"/>.</summary>
    [Alias("ChangeMembers"), ResponseTimeout("00:00:10")]
    Task<MembersChangeOutcome> ChangeMembers(string room, MembershipChange change);

    /// <summary>The sockets of this front end in <paramref name="room"/>.</summary>
    [Alias("GetMembers"), ResponseTimeout("00:00:02")]
    Task<string[]> GetMembers(string room);

    /// <summary>The rooms of <paramref name="socketId"/> (its own-id room included), or null when this front end does not hold it.</summary>
    [Alias("GetSocketRooms"), ResponseTimeout("00:00:02")]
    Task<string[]?> GetSocketRooms(string socketId);

    /// <summary>
    /// Whether this front end holds <paramref name="socketId"/>; if so, it counts the socket's location as recorded
    /// in the cluster from now on (its front-end grain records it next), so its disconnect forgets it there.
    /// </summary>
    [Alias("Locate"), ResponseTimeout("00:00:02")]
    Task<bool> Locate(string socketId);

    /// <summary>This front end's presence entries in <paramref name="room"/>: a read while the room's grain may have lost some.</summary>
    [Alias("GetPresence"), ResponseTimeout("00:00:02")]
    Task<PresenceEntry[]> GetPresence(string room);

    /// <summary>Those of <paramref name="rooms"/> that have members on this front end.</summary>
    [Alias("Occupied"), ResponseTimeout("00:00:02")]
    Task<string[]> Occupied(string[] rooms);

    /// <summary>
    /// Up to <paramref name="count"/> rooms of directory shard <paramref name="shard"/> that have members here
    /// (other than the socket a room is named after), ordinally after <paramref name="after"/>, in order: a
    /// directory page from the source, for a shard that may have lost its memory.
    /// </summary>
    [Alias("ListedRooms"), ResponseTimeout("00:00:02")]
    Task<string[]> ListedRooms(int shard, string? after, int count);

    /// <summary>
    /// Starts moving resumable socket <paramref name="socketId"/> to front end <paramref name="toFrontEnd"/>, whose
    /// client presented <paramref name="secret"/> (the last token handed out) having processed every event up to
    /// <paramref name="seq"/>: its connection here, if any, is closed, and the socket keeps buffering here, in its
    /// rooms, until <see cref="EndHandOver"/> or <see cref="AbortHandOver"/> (or a bound passes: then it is held
    /// for its window again). Returns its rooms (own-id room included), or null when this front end does not hold
    /// such a socket or the secret is not its last one.
    /// </summary>
    [Alias("BeginHandOver"), ResponseTimeout("00:00:02")]
    Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd);

    /// <summary>
    /// Completes a move begun with <see cref="BeginHandOver"/>: the socket leaves this front end without leaving
    /// any room (the new front end lists them already) and its rooms and unacknowledged events are handed over.
    /// Idempotent for a while (a retry gets the same answer); null when no such move is under way.
    /// </summary>
    [Alias("EndHandOver"), ResponseTimeout("00:00:05")]
    Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd);

    /// <summary>The move begun with <see cref="BeginHandOver"/> will not happen: the socket is held here again for its window.</summary>
    [Alias("AbortHandOver"), ResponseTimeout("00:00:05")]
    Task AbortHandOver(string socketId, string toFrontEnd);
}
