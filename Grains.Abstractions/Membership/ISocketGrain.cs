namespace Orleans.Rooms.Membership;

/// <summary>
/// One connected socket, keyed by its socket id. It owns the socket's memberships: the set of rooms it
/// is in and the front end that holds it. Every membership change goes through this grain, which updates
/// the room grains before it returns, so the socket index (here) and the room index (in the rooms) agree.
/// </summary>
/// <remarks>
/// Call direction is always API → socket grain → room grain; a room grain never calls a socket grain.
/// With no cycle there is no deadlock, and this grain can stay non-reentrant, which serializes all
/// changes to one socket's rooms.
/// </remarks>
[Alias("rooms.ISocketGrain")]
public interface ISocketGrain : IGrainWithStringKey
{
    /// <summary>Registers the socket as connected to <paramref name="frontEndId"/> and puts it in its own-id room.</summary>
    [Alias("Connect")]
    Task Connect(string frontEndId, CancellationToken cancellationToken = default);

    /// <summary>Leaves every room and forgets the socket. Unknown sockets are ignored (disconnect is idempotent).</summary>
    [Alias("Disconnect")]
    Task Disconnect(CancellationToken cancellationToken = default);

    /// <summary>Joins the rooms the socket is not in yet. Throws <see cref="SocketNotFoundException"/> when the socket is not connected.</summary>
    [Alias("Join")]
    Task Join(string[] rooms, CancellationToken cancellationToken = default);

    /// <summary>Leaves the given rooms; rooms the socket is not in are ignored.</summary>
    [Alias("Leave")]
    Task Leave(string[] rooms, CancellationToken cancellationToken = default);

    /// <summary>Leaves every room it is in, except its own-id room when <paramref name="keepOwnRoom"/> and except <paramref name="keepRoom"/>.</summary>
    [Alias("LeaveAll")]
    Task LeaveAll(bool keepOwnRoom, string? keepRoom, CancellationToken cancellationToken = default);

    /// <summary>The rooms the socket is in, its own-id room included.</summary>
    [Alias("GetRooms")]
    Task<string[]> GetRooms(CancellationToken cancellationToken = default);
}
