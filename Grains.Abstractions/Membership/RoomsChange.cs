namespace Orleans.Rooms.Membership;

/// <summary>
/// A change to one socket's rooms, as its socket grain committed it. <paramref name="Sequence"/> orders the
/// changes of one socket: the grain numbers them in the order it makes them, so a front end that hears of
/// them out of order (a notice and an answer travel separately) keeps, for each room, the latest.
/// </summary>
[GenerateSerializer, Immutable, Alias("rooms.RoomsChange")]
public sealed record RoomsChange(
    [property: Id(0)] long Sequence,
    [property: Id(1)] string[] Joined,
    [property: Id(2)] string[] Left);

/// <summary>All rooms of one socket as of <paramref name="Sequence"/> (its own-id room included).</summary>
[GenerateSerializer, Immutable, Alias("rooms.RoomsSnapshot")]
public sealed record RoomsSnapshot(
    [property: Id(0)] long Sequence,
    [property: Id(1)] string[] Rooms);
