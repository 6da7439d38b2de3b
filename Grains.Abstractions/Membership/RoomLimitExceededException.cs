namespace Orleans.Rooms.Membership;

/// <summary>Joining would put a socket in more rooms than <see cref="RoomsOptions.MaxRoomsPerSocket"/> allows.</summary>
[GenerateSerializer, Alias("rooms.RoomLimitExceededException")]
public sealed class RoomLimitExceededException : Exception
{
    public RoomLimitExceededException(string socketId, int limit, int wouldHave)
        : base($"Socket '{socketId}' may be in at most {limit} rooms (Rooms:MaxRoomsPerSocket); joining would make it {wouldHave}. Nothing was joined.")
    {
        SocketId = socketId;
        Limit = limit;
    }

    [Id(0)]
    public string SocketId { get; }

    [Id(1)]
    public int Limit { get; }
}
