using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// The hub at <c>/sockets</c>. A connection is a socket: registered in the cluster on connect (with this
/// front end's id), unregistered on every kind of disconnect. <see cref="Request"/> runs a virtual request
/// through the application's own endpoints.
/// </summary>
internal sealed partial class SocketHub(
    IGrainFactory grains,
    FrontEndIdentity identity,
    FrontEndLease lease,
    VirtualRequestBridge bridge,
    ILogger<SocketHub> logger) : Hub
{
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(30);

    public override async Task OnConnectedAsync()
    {
        // Broadcasts to this socket must find the front end attached, so wait for that first.
        await lease.WhenAttached.WaitAsync(AttachTimeout, Context.ConnectionAborted);
        await grains.GetGrainByKey<ISocketGrain>(Context.ConnectionId).Connect(identity.Id, Context.ConnectionAborted);
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        try
        {
            await grains.GetGrainByKey<ISocketGrain>(Context.ConnectionId).Disconnect();
        }
        catch (Exception ex)
        {
            LogUnregisterFailed(ex, Context.ConnectionId);
        }
    }

    /// <summary>Runs an HTTP-shaped request over this socket; always answers with an envelope, never a hub error.</summary>
    public Task<SocketResponse> Request(JsonElement envelope) => bridge.InvokeAsync(Context, envelope);

    [LoggerMessage(LogLevel.Warning, "Socket {SocketId} disconnected but could not be unregistered; it may still be listed in its rooms.")]
    private partial void LogUnregisterFailed(Exception exception, string socketId);
}
