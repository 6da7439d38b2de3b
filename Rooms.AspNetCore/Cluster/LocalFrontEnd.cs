using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Telemetry;
using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// This front end as the cluster and its own code reach it: its observer (what other front ends and grains ask
/// of it, through its front-end grain) and, to <see cref="FrontEndRouter"/>, the <see cref="IFrontEnd"/> that
/// is here. Deliveries: one batch becomes one event (one hub message for all plain sockets, serialized once per
/// protocol; one numbered message per resumable socket; the payload bytes written as they came), queued on
/// each target socket; it returns once the event is queued on every target, so a sender that awaits its
/// broadcasts keeps their order. Changes and reads are answered by <see cref="FrontEndMembership"/>.
/// </summary>
internal sealed class LocalFrontEnd(string id, FrontEndMembership membership, ISocketOutbox sockets, ISocketHandOvers handOvers, IClusterDoor door, RoomsMetrics metrics) : IFrontEndObserver, IFrontEnd
{
    public string Id => id;

    public FrontEndMembership Membership => membership;

    public Task Deliver(DeliveryBatch batch)
    {
        var message = new OutgoingEvent(batch.EventName, batch.Payload, batch.Id);
        int delivered;
        if (batch.Rooms is null)
        {
            delivered = sockets.SendToAll(message, batch.Except);
        }
        else
        {
            delivered = 0;
            foreach (var socketId in membership.Recipients(batch.Rooms, batch.Except))
            {
                if (sockets.Send(socketId, message))
                {
                    delivered++;
                }
            }
        }

        metrics.Delivered(delivered);
        return Task.CompletedTask;
    }

    public Task<bool> Change(string socketId, MembershipChange change) => membership.ChangeAsync(socketId, change);

    public Task<MembersChangeOutcome> ChangeMembers(string room, MembershipChange change) => membership.ChangeMembersAsync(room, change);

    public Task<string[]> GetMembers(string room) => Task.FromResult(membership.MembersOf(room));

    public Task<string[]?> GetSocketRooms(string socketId) => Task.FromResult(membership.RoomsOf(socketId));

    public Task<string[]> Occupied(string[] rooms) => Task.FromResult(membership.Occupied(rooms));

    public Task<string[]> ListedRooms(int shard, string? after, int count) => Task.FromResult(membership.ListedRooms(shard, after, count));

    public Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd) => handOvers.BeginHandOver(socketId, secret, seq, toFrontEnd);

    public Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd) => handOvers.EndHandOver(socketId, toFrontEnd);

    public Task AbortHandOver(string socketId, string toFrontEnd) => handOvers.AbortHandOver(socketId, toFrontEnd);

    public async Task<bool> Relist(string socketId)
    {
        if (!membership.Holds(socketId))
        {
            return false;
        }

        await door.RelistSocketsAsync([socketId]);
        return true;
    }
}
