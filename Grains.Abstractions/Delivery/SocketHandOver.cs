namespace Orleans.Rooms.Delivery;

/// <summary>
/// What a resumable socket's old front end hands the new one when the move completes: the socket's rooms at
/// that moment (its own-id room included), the last number it gave an event, and the events after the number
/// the client presented, in order. When the old front end is gone, its front-end grain hands over from what
/// the cluster kept (<paramref name="FromRecord"/>): the events kept for the socket's rooms since before the
/// client's last acknowledgement, unnumbered (<see cref="HandedOverEvent.Seq"/> 0): the new front end numbers
/// them after the client's number, and the client skips by id those it processed already. The socket's presence
/// entries go with it (<paramref name="Presence"/>): the new front end holds them, and no diff is sent.
/// </summary>
[GenerateSerializer, Immutable, Alias("rooms.SocketHandOver")]
internal sealed record SocketHandOver(
    [property: Id(0)] string[] Rooms,
    [property: Id(1)] long LastSeq,
    [property: Id(2)] HandedOverEvent[] Events,
    [property: Id(3)] bool FromRecord = false,
    [property: Id(4)] Presence.PresenceEntry[]? Presence = null);
