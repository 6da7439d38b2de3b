using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// This front end's observer. Deliveries: one batch becomes one event (one hub message for all plain sockets,
/// serialized once per protocol; one numbered message per resumable socket; the payload bytes written as they
/// came), queued on each target socket; it returns once the event is queued on every target, so a sender that
/// awaits its broadcasts keeps their order. Membership: keeps the sockets' records current and answers for
/// them. Nothing here calls a grain.
/// </summary>
internal sealed class LocalDelivery(LocalSockets sockets, RoomsMetrics metrics) : IFrontEndObserver
{
    public Task Deliver(DeliveryBatch batch)
    {
        var message = new OutgoingEvent(batch.EventName, batch.Payload);
        int delivered;
        if (batch.SocketIds is null)
        {
            delivered = sockets.SendToAll(message, batch.Except);
        }
        else
        {
            delivered = 0;
            foreach (var id in batch.SocketIds)
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

    public Task RoomsChanged(string socketId, RoomsChange change)
    {
        // A socket this front end no longer holds is ignored.
        sockets.RecordOf(socketId)?.Apply(change);
        return Task.CompletedTask;
    }

    public Task<RoomsSnapshot?> GetSocketRooms(string socketId) => Task.FromResult(sockets.RoomsOf(socketId));
}
