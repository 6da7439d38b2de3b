namespace Orleans.Rooms;

/// <summary>Limits of the room service, bound from the <c>Rooms</c> configuration section.</summary>
public sealed class RoomsOptions : ISelfValidatingOptions
{
    public const string SectionName = "Rooms";

    /// <summary>Longest allowed room name, in UTF-16 characters.</summary>
    public int MaxRoomNameLength { get; set; } = 256;

    /// <summary>Longest allowed event name, in UTF-16 characters.</summary>
    public int MaxEventNameLength { get; set; } = 128;

    /// <summary>Most rooms one socket may be in, its own-id room not counted.</summary>
    public int MaxRoomsPerSocket { get; set; } = 1000;

    /// <inheritdoc />
    public string? Validate()
    {
        if (MaxRoomNameLength < 1)
        {
            return $"Rooms:MaxRoomNameLength must be at least 1 (was {MaxRoomNameLength}).";
        }

        if (MaxEventNameLength < 1)
        {
            return $"Rooms:MaxEventNameLength must be at least 1 (was {MaxEventNameLength}).";
        }

        if (MaxRoomsPerSocket < 1)
        {
            return $"Rooms:MaxRoomsPerSocket must be at least 1 (was {MaxRoomsPerSocket}).";
        }

        return null;
    }
}
