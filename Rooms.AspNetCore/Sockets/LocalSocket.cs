namespace Orleans.Rooms.Sockets;

/// <summary>A socket this front end holds: its id, its record of rooms, and how events reach its client.</summary>
/// <param name="id">The socket id.</param>
/// <param name="recordChanged">Told of the rooms its record gains and loses (counted and logged).</param>
internal abstract class LocalSocket(string id, Action<string, IReadOnlyList<string>, IReadOnlyList<string>> recordChanged)
{
    public string Id { get; } = id;

    public SocketRecord Record { get; } = new(id, recordChanged);

    /// <summary>Events queued for the client and not yet written (a resumable socket: not yet acknowledged).</summary>
    public abstract int Pending { get; }

    /// <summary>Queues the event for the client; false when it was not (the socket is too slow, or has ended).</summary>
    public abstract bool Send(OutgoingEvent message);
}
