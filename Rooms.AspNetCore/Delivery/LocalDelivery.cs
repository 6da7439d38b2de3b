using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// This front end's observer. Deliveries: one batch becomes one hub message (serialized once per protocol,
/// the payload bytes written as they came), queued on each target connection; it returns once the message
/// is queued on every target, so a sender that awaits its broadcasts keeps their order. Membership: keeps
/// the sockets' records current and answers for them. Nothing here calls a grain.
/// </summary>
internal sealed class LocalDelivery(LocalSockets sockets, RoomsMetrics metrics) : IFrontEndObserver
{
    public Task Deliver(DeliveryBatch batch)
    {
        var message = new SerializedHubMessage(new InvocationMessage(batch.EventName, [new RawJsonPayload(batch.Payload)]));
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

    public Task RoomsChanged(string socketId, string[] joined, string[] left)
    {
        sockets.RoomsChanged(socketId, joined, left);
        return Task.CompletedTask;
    }

    public Task<string[]?> GetSocketRooms(string socketId) => Task.FromResult(sockets.RoomsOf(socketId));
}
