using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// This front end's observer. Deliveries: one batch becomes one event (one hub message for all plain sockets,
/// serialized once per protocol; one numbered message per resumable socket; the payload bytes written as they
/// came), queued on each target socket; it returns once the event is queued on every target, so a sender that
/// awaits its broadcasts keeps their order. Membership: changes and reads asked for by others, answered by
/// <see cref="FrontEndMembership"/>.
/// </summary>
internal sealed class LocalDelivery(LocalSockets sockets, FrontEndMembership membership, RoomsMetrics metrics) : IFrontEndObserver
{
    public Task Deliver(DeliveryBatch batch)
    {
        var message = new OutgoingEvent(batch.EventName, batch.Payload);
        int delivered;
        if (batch.Rooms is null)
        {
            delivered = sockets.SendToAll(message, batch.Except);
        }
        else
        {
            delivered = 0;
            foreach (var id in membership.Recipients(batch.Rooms, batch.Except))
            {
                if (sockets.Send(id, message))
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
}
