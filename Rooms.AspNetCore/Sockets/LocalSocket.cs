namespace Orleans.Rooms.Sockets;

/// <summary>A socket this front end holds: its id, its record of rooms, and how events reach its client.</summary>
internal abstract class LocalSocket(string id)
{
    public string Id { get; } = id;

    public SocketRecord Record { get; } = new(id);

    public abstract void Send(OutgoingEvent message);
}
