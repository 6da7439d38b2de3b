namespace Orleans.Rooms.Sockets;

/// <summary>A socket this front end holds: its id, its record of rooms, and how events reach its client.</summary>
internal abstract class LocalSocket(string id)
{
    private readonly HashSet<string> _rooms = new(StringComparer.Ordinal) { id };

    public string Id { get; } = id;

    public void RoomsChanged(string[] joined, string[] left)
    {
        lock (_rooms)
        {
            _rooms.UnionWith(joined);
            _rooms.ExceptWith(left);
        }
    }

    public string[] Rooms()
    {
        lock (_rooms)
        {
            return [.. _rooms];
        }
    }

    public abstract void Send(OutgoingEvent message);
}
