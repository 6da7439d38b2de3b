namespace Orleans.Rooms.VirtualRequests;

internal sealed record SocketRequestFeature(string SocketId) : ISocketRequestFeature;
