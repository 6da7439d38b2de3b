using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// Implemented by each front end. The front end holds its sockets' connections, so it is the source of
/// truth for them: it keeps a record of each socket's rooms, told of every change before the room index
/// gains a member and after it loses one, and the grains are rebuilt from that record when a silo is lost.
/// It also receives one batch per broadcast and writes it to its local sockets. The front end answers
/// these from its own memory and never calls a grain while doing so.
/// </summary>
/// <remarks>
/// Short response timeouts: a live front end answers from memory in microseconds, and a dead one must not
/// hold a broadcast or a socket's changes for the default 30 s (its lease lapses and it is purged instead).
/// Shorter than a client front end's own time-out, so that its call gives up on the dead front end first.
/// </remarks>
[Alias("rooms.IFrontEndObserver")]
public interface IFrontEndObserver : IGrainObserver
{
    [Alias("Deliver"), ResponseTimeout("00:00:02")]
    Task Deliver(DeliveryBatch batch);

    /// <summary>Records a change to the rooms of <paramref name="socketId"/>: joins before any room lists them, leaves once every room dropped them.</summary>
    [Alias("RoomsChanged"), ResponseTimeout("00:00:02")]
    Task RoomsChanged(string socketId, RoomsChange change);

    /// <summary>The recorded rooms of <paramref name="socketId"/>, or null when this front end does not hold it.</summary>
    [Alias("GetSocketRooms"), ResponseTimeout("00:00:02")]
    Task<RoomsSnapshot?> GetSocketRooms(string socketId);
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
