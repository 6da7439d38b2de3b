namespace Orleans.Rooms.VirtualRequests;

/// <summary>Present on the <c>HttpContext</c> of a request that came over a socket (Sails' <c>req.isSocket</c>).</summary>
public interface ISocketRequestFeature
{
    /// <summary>The id of the socket that sent the request.</summary>
    string SocketId { get; }
}
