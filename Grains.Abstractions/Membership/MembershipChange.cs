namespace Orleans.Rooms.Membership;

/// <summary>
/// A change to a socket's rooms, applied by the front end that holds the socket: leave <paramref name="Leave"/>
/// (or, with <paramref name="LeaveAll"/>, every room but the own-id room when <paramref name="KeepOwnRoom"/> and
/// but <paramref name="KeepRoom"/>), then join <paramref name="Join"/>; then, with <paramref name="Presence"/>, change the
/// socket's presence in a room (docs/presence.md).
/// </summary>
[GenerateSerializer, Immutable, Alias("rooms.MembershipChange")]
internal sealed record MembershipChange(
    [property: Id(0)] string[] Join,
    [property: Id(1)] string[] Leave,
    [property: Id(2)] bool LeaveAll = false,
    [property: Id(3)] bool KeepOwnRoom = true,
    [property: Id(4)] string? KeepRoom = null,
    [property: Id(5)] Presence.PresenceOp? Presence = null)
{
    public static MembershipChange Joining(string[] rooms) => new(rooms, []);

    public static MembershipChange Leaving(string[] rooms) => new([], rooms);

    /// <summary>Joins the room when not in it, and tracks the socket there under <paramref name="key"/> with <paramref name="meta"/>.</summary>
    public static MembershipChange Tracking(string room, string key, byte[] meta) => new([room], [], Presence: new(room, key, meta));

    /// <summary>Replaces the meta of a socket tracked in the room.</summary>
    public static MembershipChange UpdatingPresence(string room, byte[] meta) => new([], [], Presence: new(room, null, meta));

    /// <summary>Stops tracking the socket in the room; it stays a member.</summary>
    public static MembershipChange Untracking(string room) => new([], [], Presence: new(room, null, null, Untrack: true));

    public static MembershipChange LeavingAll(bool keepOwnRoom, string? keepRoom) => new([], [], true, keepOwnRoom, keepRoom);
}
