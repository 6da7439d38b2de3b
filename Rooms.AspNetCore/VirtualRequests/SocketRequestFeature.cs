using System.Text.Json;
using Orleans.Rooms.Authentication;

namespace Orleans.Rooms.VirtualRequests;

/// <param name="SocketId">The socket that sent the request.</param>
/// <param name="JsonBody">The request body as the hub protocol parsed it, when it is JSON: read as parameters without parsing its bytes again.</param>
/// <param name="ConnectAuthentication">What each authentication scheme answered when the socket's connection connected (none for an in-process socket).</param>
internal sealed record SocketRequestFeature(string SocketId, JsonElement? JsonBody, ConnectAuthentication? ConnectAuthentication) : ISocketRequestFeature;
