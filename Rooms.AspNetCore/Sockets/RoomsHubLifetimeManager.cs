using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// SignalR's default lifetime manager, plus the registration of each socket in the cluster. SignalR calls
/// <see cref="OnDisconnectedAsync"/> for every connection whose <see cref="OnConnectedAsync"/> started,
/// whatever happened in between (the hub's own callbacks are skipped when its connect fails), so a socket
/// is never left registered by a connection that is gone.
/// </summary>
internal sealed partial class RoomsHubLifetimeManager(
    LocalSockets sockets,
    FrontEndLease lease,
    IGrainFactory grains,
    FrontEndIdentity identity,
    ILogger<DefaultHubLifetimeManager<SocketHub>> baseLogger,
    ILogger<RoomsHubLifetimeManager> logger)
    : DefaultHubLifetimeManager<SocketHub>(baseLogger)
{
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(30);

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        // Broadcasts to this socket must find the front end attached, so wait for that first.
        await lease.WhenAttached.WaitAsync(AttachTimeout, connection.ConnectionAborted);

        // In the record first: from here on the socket grain can tell this front end of its rooms.
        sockets.Add(connection);
        await base.OnConnectedAsync(connection);

        // No cancellation: a connection that drops meanwhile is cleaned up by OnDisconnectedAsync.
        await FrontEnd.Connect(connection.ConnectionId);
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        sockets.Remove(connection.ConnectionId);
        await base.OnDisconnectedAsync(connection);
        try
        {
            await FrontEnd.Disconnect(connection.ConnectionId);
        }
        catch (Exception ex)
        {
            // Retried on each lease renewal; if this front end dies first, the purge of its sockets takes over.
            LogUnregisterFailed(logger, ex, connection.ConnectionId);
            lease.RetryDisconnect(connection.ConnectionId);
        }
    }

    private IFrontEndGrain FrontEnd => grains.GetGrainByKey<IFrontEndGrain>(identity.Id);

    [LoggerMessage(1, LogLevel.Warning, "Socket {SocketId} disconnected but could not be unregistered yet; retrying.")]
    private static partial void LogUnregisterFailed(ILogger logger, Exception exception, string socketId);
}
