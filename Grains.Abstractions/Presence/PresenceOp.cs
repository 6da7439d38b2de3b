namespace Orleans.Rooms.Presence;

/// <summary>
/// A presence change that travels with a <see cref="Membership.MembershipChange"/> to the front end that holds the
/// socket: track under <paramref name="Key"/> with <paramref name="Meta"/> (the room joined first when needed), update
/// the meta (<paramref name="Key"/> null), or untrack (<paramref name="Untrack"/>).
/// </summary>
/// <param name="Room">The room.</param>
/// <param name="Key">The key to track under; null keeps the key of an update.</param>
/// <param name="Meta">The app's meta, compact UTF-8 JSON of an object without <c>ref</c>; null for an untrack.</param>
/// <param name="Untrack">Stop tracking (the membership stays).</param>
[GenerateSerializer, Immutable, Alias("rooms.PresenceOp")]
internal sealed record PresenceOp(
    [property: Id(0)] string Room,
    [property: Id(1)] string? Key,
    [property: Id(2)] byte[]? Meta,
    [property: Id(3)] bool Untrack = false);

/// <summary>A meta update of a socket that is not tracked in the room.</summary>
[GenerateSerializer, Alias("rooms.PresenceNotTrackedException")]
public sealed class PresenceNotTrackedException : Exception
{
    internal PresenceNotTrackedException(string socketId, string room)
        : base($"Socket '{socketId}' is not tracked in room '{room}': track it before updating its meta.")
    {
        SocketId = socketId;
        Room = room;
    }

    /// <summary>The socket that is not tracked.</summary>
    [Id(0)]
    public string SocketId { get; }

    /// <summary>The room it is not tracked in.</summary>
    [Id(1)]
    public string Room { get; }
}
