namespace Orleans.Rooms.Delivery;

/// <summary>
/// An event a moving socket's old front end had numbered for it and its client had not acknowledged: the new
/// front end sends it under the same number, before any event of its own.
/// </summary>
/// <param name="Seq">Its number in the socket's event stream.</param>
/// <param name="EventName">The client method the client hands it to.</param>
/// <param name="Payload">The event's argument, as UTF-8 JSON.</param>
/// <param name="BroadcastId">The broadcast it came from (<see cref="DeliveryBatch.Id"/>).</param>
[GenerateSerializer, Immutable, Alias("rooms.HandedOverEvent")]
internal sealed record HandedOverEvent(
    [property: Id(0)] long Seq,
    [property: Id(1)] string EventName,
    [property: Id(2)] byte[] Payload,
    [property: Id(3)] Guid BroadcastId);
