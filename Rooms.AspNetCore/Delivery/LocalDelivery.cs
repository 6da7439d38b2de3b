using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// This front end's observer: turns one batch into one hub message (serialized once per protocol, the
/// payload bytes written as they came) and queues it on each target connection. It returns once the
/// message is queued on every target, so a sender that awaits its broadcasts keeps their order.
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
}
