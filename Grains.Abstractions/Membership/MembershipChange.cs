namespace Orleans.Rooms.Membership;

/// <summary>
/// A change to a socket's rooms, applied by the front end that holds the socket: leave <paramref name="Leave"/>
/// (or, with <paramref name="LeaveAll"/>, every room but the own-id room when <paramref name="KeepOwnRoom"/> and
/// but <paramref name="KeepRoom"/>), then join <paramref name="Join"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("rooms.MembershipChange")]
internal sealed record MembershipChange(
    [property: Id(0)] string[] Join,
    [property: Id(1)] string[] Leave,
    [property: Id(2)] bool LeaveAll = false,
    [property: Id(3)] bool KeepOwnRoom = true,
    [property: Id(4)] string? KeepRoom = null)
{
    public static MembershipChange Joining(string[] rooms) => new(rooms, []);

    public static MembershipChange Leaving(string[] rooms) => new([], rooms);

    public static MembershipChange LeavingAll(bool keepOwnRoom, string? keepRoom) => new([], [], true, keepOwnRoom, keepRoom);
}
