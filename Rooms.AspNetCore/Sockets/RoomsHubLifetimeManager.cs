using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// SignalR's default lifetime manager, plus the registration of each socket in the cluster. SignalR calls
/// <see cref="OnDisconnectedAsync"/> for every connection whose <see cref="OnConnectedAsync"/> started,
/// whatever happened in between (the hub's own callbacks are skipped when its connect fails), so a socket
/// is never left registered by a connection that is gone. A resumable socket outlives its connection for
/// the resume window: it is unregistered when the window passes, not when the connection goes, and a
/// connection that resumes it is never registered under its own id.
/// </summary>
internal sealed partial class RoomsHubLifetimeManager(
    LocalSockets sockets,
    FrontEndMembership membership,
    FrontEndLease lease,
    IGrainFactory grains,
    FrontEndIdentity identity,
    IHostApplicationLifetime host,
    ILogger<DefaultHubLifetimeManager<SocketHub>> baseLogger,
    ILogger<RoomsHubLifetimeManager> logger)
    : DefaultHubLifetimeManager<SocketHub>(baseLogger)
{
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(30);

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        // Broadcasts to this socket must find the front end attached, so wait for that first.
        await lease.WhenAttached.WaitAsync(AttachTimeout, connection.ConnectionAborted);

        var request = ResumeRequest.Of(connection);
        await base.OnConnectedAsync(connection);
        if (request.Token is { } token && sockets.TryResume(connection, token, request.Seq))
        {
            return; // the socket it took over is registered already, under its own id
        }

        // Held here first (in its own-id room), then its location and that room listed in the cluster.
        sockets.Add(connection, request.Resumable);

        // No cancellation: a connection that drops meanwhile is cleaned up by OnDisconnectedAsync.
        await membership.ListSocketAsync(connection.ConnectionId);
        if (request.Resumable)
        {
            sockets.Attach(connection);
        }
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        var ended = sockets.Disconnected(connection, expired: OnHoldExpired);
        await base.OnDisconnectedAsync(connection);
        if (ended is not null)
        {
            await UnregisterAsync(ended);
        }
    }

    private void OnHoldExpired(string socketId)
    {
        // A front end that stops detaches from the cluster, which disconnects every socket it still holds.
        if (!host.ApplicationStopping.IsCancellationRequested)
        {
            _ = UnregisterAsync(socketId);
        }
    }

    /// <summary>Forgets the socket's location (it left its rooms here already); never throws (a failure is retried on each lease renewal).</summary>
    private async Task UnregisterAsync(string socketId)
    {
        try
        {
            await FrontEnd.Disconnect(socketId);
        }
        catch (Exception ex)
        {
            // Retried on each lease renewal; if this front end dies first, the purge of its sockets takes over.
            LogUnregisterFailed(logger, ex, socketId);
            lease.RetryDisconnect(socketId);
        }
    }

    private IFrontEndGrain FrontEnd => grains.GetGrainByKey<IFrontEndGrain>(identity.Id);

    [LoggerMessage(1, LogLevel.Warning, "Socket {SocketId} disconnected but could not be unregistered yet; retrying.")]
    private static partial void LogUnregisterFailed(ILogger logger, Exception exception, string socketId);
}
