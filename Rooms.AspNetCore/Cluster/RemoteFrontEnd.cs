using Orleans.Rooms.Delivery;
using Orleans.Rooms.Presence;
using Orleans.Rooms.Membership;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// Another front end of the cluster, asked through its front-end grain, which answers for it when it is gone
/// (see <see cref="IFrontEndGrain"/>). Changes and reads are idempotent and retried by the door; a delivery is
/// retried only while its message was never handed over (a retry after that could deliver it twice).
/// </summary>
internal sealed class RemoteFrontEnd(string id, ClusterDoor door) : IFrontEnd
{
    private readonly IFrontEndGrain _grain = door.FrontEndGrain(id);

    public string Id => id;

    public Task Deliver(DeliveryBatch batch) => door.RetryUndelivered(() => _grain.Deliver(batch));

    public Task<bool> Change(string socketId, MembershipChange change) => door.Retry(() => _grain.Change(socketId, change));

    public Task<MembersChangeOutcome> ChangeMembers(string room, MembershipChange change) => door.Retry(() => _grain.ChangeMembers(room, change));

    public Task<string[]> GetMembers(string room) => door.Retry(() => _grain.GetMembers(room));

    public Task<PresenceEntry[]> GetPresence(string room) => door.Retry(() => _grain.GetPresence(room));

    public Task<string[]?> GetSocketRooms(string socketId) => door.Retry(() => _grain.GetSocketRooms(socketId));

    public Task<string[]> Occupied(string[] rooms) => door.Retry(() => _grain.Occupied(rooms));

    public Task<string[]> ListedRooms(int shard, string? after, int count) => door.Retry(() => _grain.ListedRooms(shard, after, count));

    public Task<bool> Relist(string socketId) => door.Retry(() => _grain.Relist(socketId));

    // Each step of a move is safe to repeat: a repeated start is answered the same, a repeated end gets the same
    // hand-over (kept for a while), a repeated call-off does nothing.
    public Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd) => door.Retry(() => _grain.BeginHandOver(socketId, secret, seq, toFrontEnd));

    public Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd) => door.Retry(() => _grain.EndHandOver(socketId, toFrontEnd));

    public Task AbortHandOver(string socketId, string toFrontEnd) => door.Retry(() => _grain.AbortHandOver(socketId, toFrontEnd));
}
