using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// This front end's observer. Deliveries: one batch becomes one hub message (serialized once per protocol,
/// the payload bytes written as they came), queued on each target connection; it returns once the message
/// is queued on every target, so a sender that awaits its broadcasts keeps their order. Membership: keeps
/// the sockets' records current and answers for them. Nothing here calls a grain.
/// </summary>
internal sealed class LocalDelivery(LocalSockets sockets) : IFrontEndObserver
{
    public Task Deliver(DeliveryBatch batch)
    {
        var message = new SerializedHubMessage(new InvocationMessage(batch.EventName, [new RawJsonPayload(batch.Payload)]));
        if (batch.SocketIds is null)
        {
            sockets.SendToAll(message, batch.Except);
        }
        else
        {
            foreach (var id in batch.SocketIds)
            {
                sockets.Send(id, message);
            }
        }

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
