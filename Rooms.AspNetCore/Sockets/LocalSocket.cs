using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.Sockets;

/// <summary>A socket this front end holds: its id, and how events reach its client (its rooms are in <see cref="Membership.FrontEndMembership"/>).</summary>
/// <param name="id">The socket id.</param>
internal abstract class LocalSocket(string id)
{
    public string Id { get; } = id;

    /// <summary>Events queued for the client and not yet written (a resumable socket: not yet acknowledged).</summary>
    public abstract int Pending { get; }

    /// <summary>Queues the event for the client; false when it was not (the socket is too slow, or has ended).</summary>
    public abstract bool Send(OutgoingEvent message);
}
