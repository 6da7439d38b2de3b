using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// One front end as <see cref="FrontEndRouter"/> hands it out: this one, answered from memory
/// (<see cref="LocalFrontEnd"/>), or another, asked through its front-end grain (<see cref="RemoteFrontEnd"/>).
/// The same calls either way, so no caller decides "here or there" itself.
/// </summary>
internal interface IFrontEnd
{
    string Id { get; }

    /// <inheritdoc cref="IFrontEndObserver.Deliver"/>
    Task Deliver(DeliveryBatch batch);

    /// <inheritdoc cref="IFrontEndObserver.Change"/>
    Task<bool> Change(string socketId, MembershipChange change);

    /// <inheritdoc cref="IFrontEndObserver.ChangeMembers"/>
    Task<MembersChangeOutcome> ChangeMembers(string room, MembershipChange change);

    /// <inheritdoc cref="IFrontEndObserver.GetMembers"/>
    Task<string[]> GetMembers(string room);

    /// <inheritdoc cref="IFrontEndObserver.GetSocketRooms"/>
    Task<string[]?> GetSocketRooms(string socketId);

    /// <inheritdoc cref="IFrontEndObserver.GetPresence"/>
    Task<PresenceEntry[]> GetPresence(string room);

    /// <inheritdoc cref="IFrontEndObserver.Occupied"/>
    Task<string[]> Occupied(string[] rooms);

    /// <inheritdoc cref="IFrontEndObserver.ListedRooms"/>
    Task<string[]> ListedRooms(int shard, string? after, int count);

    /// <inheritdoc cref="IFrontEndObserver.BeginHandOver"/>
    Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd);

    /// <inheritdoc cref="IFrontEndObserver.EndHandOver"/>
    Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd);

    /// <inheritdoc cref="IFrontEndObserver.AbortHandOver"/>
    Task AbortHandOver(string socketId, string toFrontEnd);

    /// <summary>When this front end holds the socket, records its location again and answers true (its socket grain lost it with a silo).</summary>
    Task<bool> Relist(string socketId);
}
