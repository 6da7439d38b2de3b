using Microsoft.AspNetCore.Http;

namespace Orleans.Rooms.Membership;

/// <summary>A page of room names; <see cref="Next"/> is the cursor for the next page, null on the last.</summary>
/// <param name="Rooms">The room names of this page.</param>
/// <param name="Next">The cursor to pass as <c>after</c> for the next page; null on the last page.</param>
public sealed record RoomPage(IReadOnlyList<string> Rooms, string? Next)
{
    /// <summary>Rooms per page when the caller names no limit.</summary>
    public const int DefaultLimit = 1000;
    /// <summary>The most rooms one page may ask for.</summary>
    public const int MaxLimit = 10_000;
}
