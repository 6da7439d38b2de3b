using System.Text.Json;

namespace Orleans.Rooms.VirtualRequests;

/// <param name="SocketId">The socket that sent the request.</param>
/// <param name="JsonBody">The request body as the hub protocol parsed it, when it is JSON: read as parameters without parsing its bytes again.</param>
internal sealed record SocketRequestFeature(string SocketId, JsonElement? JsonBody) : ISocketRequestFeature;
