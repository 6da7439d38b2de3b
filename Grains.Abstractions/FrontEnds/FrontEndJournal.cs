using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// One group commit of a front end into its front-end grain (docs/design.md, "Surviving a front end"): the
/// changed records of its resumable sockets, the broadcasts it delivered to them itself (those from other front
/// ends pass the grain already), and how long the grain keeps delivered events.
/// </summary>
/// <param name="Records">Changed socket records, in order.</param>
/// <param name="Delivered">Batches this front end delivered to resumable sockets of its own, in order.</param>
/// <param name="KeepEventsFor">How long kept events are needed: the resume window and a margin.</param>
/// <param name="KeepEventsMaxBytes">At most this many payload bytes kept; older events go first.</param>
[GenerateSerializer, Immutable, Alias("rooms.FrontEndJournal")]
internal sealed record FrontEndJournal(
    [property: Id(0)] SocketRecord[] Records,
    [property: Id(1)] DeliveryBatch[] Delivered,
    [property: Id(2)] TimeSpan KeepEventsFor,
    [property: Id(3)] long KeepEventsMaxBytes);
