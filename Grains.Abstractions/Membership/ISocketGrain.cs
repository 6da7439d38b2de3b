using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.Membership;

/// <summary>
/// One connected socket, keyed by its socket id: the cluster-wide index of its rooms and of the front end
/// that holds it. Every membership change goes through this grain. A join is recorded by the socket's front
/// end before any room gains the member; a leave is recorded there after the rooms lost it. So the rooms
/// never list a membership the front end does not know, and rebuilding from the front end restores exactly
/// what was committed.
/// </summary>
/// <remarks>
/// Call direction is always API/front-end grain → socket grain → room grain (and → the front end's observer,
/// which calls no grain back). With no cycle there is no deadlock, and this grain stays non-reentrant,
/// which serializes all changes to one socket's rooms. Mutations take no cancellation token on purpose: a
/// caller that gives up must not stop a change half-way between the indexes.
/// </remarks>
[Alias("rooms.ISocketGrain")]
public interface ISocketGrain : IGrainWithStringKey
{
    /// <summary>Registers the socket as held by <paramref name="frontEndId"/> (reached through <paramref name="frontEnd"/>) and puts it in its own-id room.</summary>
    [Alias("Connect")]
    Task Connect(string frontEndId, IFrontEndObserver frontEnd);

    /// <summary>Leaves every room and forgets the socket. Unknown sockets are ignored (disconnect is idempotent).</summary>
    [Alias("Disconnect")]
    Task Disconnect();

    /// <summary>
    /// Rebuilds this grain and the rooms from the front end's record: a grain that does not know the socket
    /// (its silo was lost, or the front end was purged while alive) adopts the record's rooms and numbers its
    /// next changes after the record's sequence; a grain that knows it keeps its own rooms. Either way every
    /// room it is in lists it again.
    /// </summary>
    [Alias("Restore")]
    Task Restore(string frontEndId, IFrontEndObserver frontEnd, RoomsSnapshot record);

    /// <summary>
    /// Joins the rooms (rooms it is already in are made to list it again, so the indexes converge).
    /// Throws <see cref="SocketNotFoundException"/> when the socket is not connected.
    /// </summary>
    /// <param name="rooms">The rooms to join.</param>
    /// <param name="viaFrontEnd">
    /// The caller's front end id when the caller is the socket's own front end: it records the change itself
    /// (a join before the call, from the answer after), so the grain does not call it back. Otherwise null,
    /// and the grain tells the socket's front end.
    /// </param>
    [Alias("Join")]
    Task<RoomsChange> Join(string[] rooms, string? viaFrontEnd = null);

    /// <summary>Leaves the given rooms; rooms the socket is not in are ignored. <paramref name="viaFrontEnd"/> as for <see cref="Join"/>.</summary>
    [Alias("Leave")]
    Task<RoomsChange> Leave(string[] rooms, string? viaFrontEnd = null);

    /// <summary>Leaves every room it is in, except its own-id room when <paramref name="keepOwnRoom"/> and except <paramref name="keepRoom"/>.</summary>
    [Alias("LeaveAll")]
    Task<RoomsChange> LeaveAll(bool keepOwnRoom, string? keepRoom, string? viaFrontEnd = null);

    /// <summary>The rooms the socket is in, its own-id room included.</summary>
    [Alias("GetRooms")]
    Task<RoomsSnapshot> GetRooms(CancellationToken cancellationToken = default);
}
