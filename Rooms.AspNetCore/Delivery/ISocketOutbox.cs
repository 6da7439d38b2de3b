namespace Orleans.Rooms.Delivery;

/// <summary>
/// Where this front end's events for its sockets go: their connections (<see cref="Sockets.LocalSockets"/>), or,
/// in a test or a benchmark, whatever records them. <see cref="Cluster.LocalFrontEnd"/> resolves each batch to
/// sockets and hands each event here.
/// </summary>
internal interface ISocketOutbox
{
    /// <summary>Queues the event for the socket; false when it is not held here or was dropped as too slow.</summary>
    bool Send(string socketId, OutgoingEvent message);

    /// <summary>Queues the event for every socket held here but <paramref name="except"/>; returns for how many.</summary>
    int SendToAll(OutgoingEvent message, string[]? except);
}
