namespace Orleans.Rooms.Delivery;

/// <summary>
/// Implemented by each front end: receives one batch per broadcast and writes it to its local sockets.
/// </summary>
[Alias("rooms.IFrontEndObserver")]
public interface IFrontEndObserver : IGrainObserver
{
    [Alias("Deliver")]
    Task Deliver(DeliveryBatch batch);
}

/// <summary>
/// One event for some (or all) sockets of one front end. The payload is serialized once, by the sender,
/// and written as is to every target connection.
/// </summary>
/// <param name="EventName">The client method to invoke.</param>
/// <param name="Payload">The event's argument, as UTF-8 JSON.</param>
/// <param name="SocketIds">The target sockets on this front end; null means every socket it holds.</param>
/// <param name="Except">Sockets to leave out (used with <paramref name="SocketIds"/> null).</param>
[GenerateSerializer, Immutable, Alias("rooms.DeliveryBatch")]
public sealed record DeliveryBatch(
    [property: Id(0)] string EventName,
    [property: Id(1)] byte[] Payload,
    [property: Id(2)] string[]? SocketIds,
    [property: Id(3)] string[]? Except);
