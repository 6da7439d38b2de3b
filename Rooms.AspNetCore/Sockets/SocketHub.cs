using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// The hub at <c>/sockets</c>. A connection is a socket (registered in the cluster by
/// <see cref="RoomsHubLifetimeManager"/>). <see cref="Request"/> runs a virtual request through the
/// application's own endpoints.
/// </summary>
internal sealed class SocketHub(VirtualRequestBridge bridge) : Hub
{
    /// <summary>Runs an HTTP-shaped request over this socket; always answers with an envelope, never a hub error.</summary>
    public Task<SocketResponse> Request(JsonElement envelope) => bridge.InvokeAsync(Context, envelope);
}
