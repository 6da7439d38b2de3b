namespace Orleans.Rooms.Membership;

/// <summary>
/// The front ends a room grain lists as holding members, and whether that list can be trusted whole.
/// <paramref name="Complete"/> is false while the grain may have lost its memory with a silo and the front ends
/// have not all had time to list it again (docs/design.md, "Healing"): a caller then asks every attached front
/// end instead, each of which answers for its own members.
/// </summary>
[GenerateSerializer, Immutable, Alias("rooms.RoomFrontEnds")]
internal sealed record RoomFrontEnds([property: Id(0)] string[] FrontEnds, [property: Id(1)] bool Complete);
