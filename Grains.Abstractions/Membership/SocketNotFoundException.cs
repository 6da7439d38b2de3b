namespace Orleans.Rooms.Membership;

/// <summary>The socket id names no socket that is connected anywhere in the cluster.</summary>
[GenerateSerializer, Alias("rooms.SocketNotFoundException")]
public sealed class SocketNotFoundException : Exception
{
    internal SocketNotFoundException(string socketId)
        : base($"Socket '{socketId}' is not connected to any front end.")
    {
        SocketId = socketId;
    }

    /// <summary>The socket id that names no connected socket.</summary>
    [Id(0)]
    public string SocketId { get; }
}
