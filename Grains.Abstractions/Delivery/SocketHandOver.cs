namespace Orleans.Rooms.Delivery;

/// <summary>
/// What a resumable socket's old front end hands the new one when the move completes: the socket's rooms at
/// that moment (its own-id room included), the last number it gave an event, and the events after the number
/// the client presented, in order.
/// </summary>
[GenerateSerializer, Immutable, Alias("rooms.SocketHandOver")]
public sealed record SocketHandOver(
    [property: Id(0)] string[] Rooms,
    [property: Id(1)] long LastSeq,
    [property: Id(2)] HandedOverEvent[] Events);
