namespace Orleans.Rooms.Membership;

/// <summary>What a change to every local member of a room did on one front end.</summary>
/// <param name="Succeeded">The sockets changed.</param>
/// <param name="Failed">The sockets that could not be, each with why.</param>
[GenerateSerializer, Immutable, Alias("rooms.MembersChangeOutcome")]
internal sealed record MembersChangeOutcome(
    [property: Id(0)] string[] Succeeded,
    [property: Id(1)] SocketFailure[] Failed)
{
    public static MembersChangeOutcome None { get; } = new([], []);
}
