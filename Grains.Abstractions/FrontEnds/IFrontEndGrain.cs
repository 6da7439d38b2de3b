using Orleans.Rooms.Membership;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// One front end inside the cluster, keyed by front end id. The front end renews its lease here; the grain
/// keeps the ids of the front end's sockets, registers and forgets their locations, passes on what others ask
/// of the front end (deliveries, changes, reads), and when the lease lapses (the front end died without a
/// goodbye) takes the front end out of every room and forgets its sockets.
/// </summary>
/// <remarks>
/// Calls go front-end grain → observer, socket grain, front-end rooms grain, registry; the observer calls only
/// the front-end rooms grain, which calls only room grains. Nothing calls back, so nothing can deadlock.
/// </remarks>
[Alias("rooms.IFrontEndGrain")]
internal interface IFrontEndGrain : IGrainWithStringKey
{
    /// <summary>Attaches or renews the front end's observer; must be repeated within <paramref name="lease"/>.</summary>
    [Alias("Renew")]
    Task<LeaseState> Renew(IFrontEndObserver observer, TimeSpan lease);

    /// <summary>Tracks these sockets of the front end and records their location again (after <see cref="LeaseState.Incarnation"/> changed or a silo was lost).</summary>
    [Alias("RelistSockets")]
    Task RelistSockets(string[] socketIds);

    /// <summary>Forgets a socket of this front end and its location; idempotent.</summary>
    [Alias("Disconnect")]
    Task Disconnect(string socketId);

    /// <summary>Asks the front end whether it holds <paramref name="socketId"/> (another front end looks for it); if so, records its location.</summary>
    [Alias("Relist")]
    Task<bool> Relist(string socketId);

    /// <summary>Takes the front end out of every room, forgets its sockets, leaves the registry and forgets the observer (graceful stop).</summary>
    [Alias("Detach")]
    Task Detach();

    /// <summary>Passes the batch to the front end; completes once the front end has queued it for its sockets. Dropped when the front end is gone.</summary>
    [Alias("Deliver")]
    Task Deliver(DeliveryBatch batch);

    /// <summary><see cref="Deliver"/> of several batches in one call, in order (the presence diffs of a silo's rooms: <c>DiffSender</c>).</summary>
    [Alias("DeliverAll")]
    Task DeliverAll(DeliveryBatch[] batches);

    /// <summary>See <see cref="IFrontEndObserver.Change"/>; false too when the front end is gone.</summary>
    [Alias("Change")]
    Task<bool> Change(string socketId, MembershipChange change);

    /// <summary>See <see cref="IFrontEndObserver.ChangeMembers"/>; nothing when the front end is gone.</summary>
    [Alias("ChangeMembers")]
    Task<MembersChangeOutcome> ChangeMembers(string room, MembershipChange change);

    /// <summary>See <see cref="IFrontEndObserver.GetMembers"/>; none when the front end is gone or does not answer.</summary>
    [Alias("GetMembers")]
    Task<string[]> GetMembers(string room);

    /// <summary>See <see cref="IFrontEndObserver.GetPresence"/>; none when the front end is gone or does not answer.</summary>
    [Alias("GetPresence")]
    Task<PresenceEntry[]> GetPresence(string room);

    /// <summary>See <see cref="IFrontEndObserver.GetSocketRooms"/>; null when the front end is gone.</summary>
    [Alias("GetSocketRooms")]
    Task<string[]?> GetSocketRooms(string socketId);

    /// <summary>See <see cref="IFrontEndObserver.Occupied"/>; none when the front end is gone or does not answer.</summary>
    [Alias("Occupied")]
    Task<string[]> Occupied(string[] rooms);

    /// <summary>See <see cref="IFrontEndObserver.ListedRooms"/>; none when the front end is gone or does not answer.</summary>
    [Alias("ListedRooms")]
    Task<string[]> ListedRooms(int shard, string? after, int count);

    /// <summary>
    /// See <see cref="IFrontEndObserver.BeginHandOver"/>. When the front end is gone (or does not answer), from
    /// what the cluster kept of the socket (<see cref="Commit"/>): its rooms, when the secret is one of its last
    /// two tokens; null otherwise.
    /// </summary>
    [Alias("BeginHandOver")]
    Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd);

    /// <summary>
    /// See <see cref="IFrontEndObserver.EndHandOver"/>. A move begun from what the cluster kept completes from it
    /// (<see cref="SocketHandOver.FromRecord"/>), and the socket is forgotten here; null when no move is under way,
    /// or when events the socket may need were no longer kept.
    /// </summary>
    [Alias("EndHandOver")]
    Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd);

    /// <summary>See <see cref="IFrontEndObserver.AbortHandOver"/>.</summary>
    [Alias("AbortHandOver")]
    Task AbortHandOver(string socketId, string toFrontEnd);

    /// <summary>
    /// Keeps what the front end's resumable sockets need to outlive it: their records, and the events it
    /// delivered to them itself (docs/design.md, "Surviving a front end"). Completes once kept.
    /// </summary>
    [Alias("Commit")]
    Task Commit(FrontEndJournal journal);

    /// <summary>
    /// Tracks a socket that moves to this front end from <paramref name="fromFrontEnd"/> and records its new
    /// location (docs/design.md, "Moving a socket"); repeating it is a no-op.
    /// </summary>
    [Alias("Adopt")]
    Task Adopt(string socketId, string fromFrontEnd);
}
