namespace Orleans.Rooms.Membership;

/// <summary>Joining would put a socket in more rooms than the front end's <c>Rooms:MaxRoomsPerSocket</c> allows; nothing was joined.</summary>
[GenerateSerializer, Alias("rooms.RoomLimitExceededException")]
public sealed class RoomLimitExceededException : Exception
{
    internal RoomLimitExceededException(string socketId, int limit, int wouldHave)
        : base($"Socket '{socketId}' may be in at most {limit} rooms (Rooms:MaxRoomsPerSocket); joining would make it {wouldHave}. Nothing was joined.")
    {
        SocketId = socketId;
        Limit = limit;
    }

    /// <summary>The socket that would have had too many rooms.</summary>
    [Id(0)]
    public string SocketId { get; }

    /// <summary>The most rooms a socket may be in.</summary>
    [Id(1)]
    public int Limit { get; }
}
