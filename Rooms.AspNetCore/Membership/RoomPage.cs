using Microsoft.AspNetCore.Http;

namespace Orleans.Rooms.Membership;

/// <summary>A page of room names; <see cref="Next"/> is the cursor for the next page, null on the last.</summary>
public sealed record RoomPage(IReadOnlyList<string> Rooms, string? Next)
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 10_000;
}
