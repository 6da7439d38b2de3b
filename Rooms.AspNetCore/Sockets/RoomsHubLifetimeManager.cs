using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;

namespace Orleans.Rooms.Sockets;

/// <summary>SignalR's default lifetime manager, plus the bookkeeping of <see cref="LocalSockets"/>.</summary>
internal sealed class RoomsHubLifetimeManager(LocalSockets sockets, ILogger<DefaultHubLifetimeManager<SocketHub>> logger)
    : DefaultHubLifetimeManager<SocketHub>(logger)
{
    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        sockets.Add(connection);
        return base.OnConnectedAsync(connection);
    }

    public override Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        sockets.Remove(connection.ConnectionId);
        return base.OnDisconnectedAsync(connection);
    }
}
