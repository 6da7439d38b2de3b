using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// One event for the sockets of one front end that are in any of <paramref name="Rooms"/> (each once), or for
/// all of them when <paramref name="Rooms"/> is null, minus <paramref name="Except"/>. The payload is serialized
/// once, by the sender, and written as is to every target connection.
/// </summary>
/// <param name="EventName">The client method to invoke.</param>
/// <param name="Payload">The event's argument, as UTF-8 JSON.</param>
/// <param name="Rooms">The target rooms; null means every socket the front end holds.</param>
/// <param name="Except">Sockets to leave out.</param>
/// <param name="Id">
/// The broadcast's id, the same in every batch of one broadcast: a socket that moves between front ends while
/// both hold it (docs/design.md, "Moving a socket") gets each broadcast once, whichever front ends it reached.
/// </param>
[GenerateSerializer, Immutable, Alias("rooms.DeliveryBatch")]
internal sealed record DeliveryBatch(
    [property: Id(0)] string EventName,
    [property: Id(1)] byte[] Payload,
    [property: Id(2)] string[]? Rooms,
    [property: Id(3)] string[]? Except,
    [property: Id(4)] Guid Id);
