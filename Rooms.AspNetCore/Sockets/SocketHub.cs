using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// The hub at <c>/sockets</c>. A connection is a socket (registered in the cluster by
/// <see cref="RoomsHubLifetimeManager"/>). <see cref="Request"/> runs a virtual request through the
/// application's own endpoints; <see cref="Ack"/> is how the client of a resumable socket acknowledges its events,
/// and <see cref="Disconnect"/> how it leaves for good.
/// </summary>
internal sealed class SocketHub(VirtualRequestBridge bridge) : Hub
{
    /// <summary>Runs an HTTP-shaped request over this socket; always answers with an envelope, never a hub error.</summary>
    public Task<SocketResponse> Request(JsonElement envelope) => bridge.InvokeAsync(Context, envelope);

    /// <summary>The client of a resumable socket has processed every event up to <paramref name="seq"/>; ignored on a plain socket.</summary>
    public void Ack(long seq) => LocalSockets.Ack(Context, seq);

    /// <summary>Ends this socket now, as a disconnect does; a resumable socket is not held for a resume.</summary>
    public void Disconnect() => LocalSockets.Close(Context);
}
