using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Orleans.Rooms.Membership;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// The hub at <c>/sockets</c> (docs/protocol.md). A connection is a socket (registered in the cluster by
/// <see cref="RoomsHubLifetimeManager"/>). <see cref="Request"/> runs a virtual request through the
/// application's own endpoints; <see cref="Ack"/> is how the client of a resumable socket acknowledges its events,
/// and <see cref="Disconnect"/> how it leaves for good.
/// </summary>
/// <remarks>
/// Public so that an app can inject <c>IHubContext&lt;SocketHub&gt;</c>: its groups are rooms, and what it sends
/// reaches sockets on every front end, as <see cref="IRoomService"/> does (see <see cref="RoomsHubLifetimeManager"/>).
/// The service container makes it (<c>AddRooms</c>), since what it runs on is internal.
/// </remarks>
public sealed class SocketHub : Hub
{
    private readonly VirtualRequestBridge _bridge;

    internal SocketHub(VirtualRequestBridge bridge) => _bridge = bridge;

    /// <summary>Runs an HTTP-shaped request over this socket; always answers with an envelope, never a hub error.</summary>
    public Task<SocketResponse> Request(JsonElement envelope) => _bridge.InvokeAsync(Context, envelope);

    /// <summary>The client of a resumable socket has processed every event up to <paramref name="seq"/>; ignored on a plain socket.</summary>
    public void Ack(long seq) => LocalSockets.Ack(Context, seq);

    /// <summary>Ends this socket now, as a disconnect does; a resumable socket is not held for a resume.</summary>
    public void Disconnect() => LocalSockets.Close(Context);
}
