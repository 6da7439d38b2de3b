namespace Orleans.Rooms.Membership;

/// <summary>
/// Where one socket lives, keyed by its socket id: the front end that holds its connection. The socket's rooms
/// are kept by that front end (see <see cref="FrontEnds.IFrontEndObserver"/>), which is also where changes to
/// them are made; this grain only lets any caller in the cluster find it. Calls no other grain.
/// </summary>
[Alias("rooms.ISocketGrain")]
internal interface ISocketGrain : IGrainWithStringKey
{
    /// <summary>Records the socket as held by <paramref name="frontEndId"/>; repeating it is a no-op. Throws when another front end holds it.</summary>
    [Alias("Connect")]
    Task Connect(string frontEndId);

    /// <summary>Forgets the socket if <paramref name="frontEndId"/> holds it; otherwise (or unknown) does nothing.</summary>
    [Alias("Disconnect")]
    Task Disconnect(string frontEndId);

    /// <summary>
    /// Records the socket as held by <paramref name="toFrontEnd"/> instead of <paramref name="fromFrontEnd"/> (it
    /// moved); a no-op when it is held by <paramref name="toFrontEnd"/> already. Throws when a third front end holds it.
    /// </summary>
    [Alias("Move")]
    Task Move(string fromFrontEnd, string toFrontEnd);

    /// <summary>
    /// <see cref="Disconnect"/> for a front end the registry no longer lists, sent by the sweeper of this grain's
    /// own silo: done only if the socket was last connected here at or before <paramref name="heldUpTo"/> (a
    /// sequence number of that silo's holdings), so a front end that came back and relisted it since keeps it.
    /// </summary>
    [Alias("DisconnectGone")]
    Task DisconnectGone(string frontEndId, long heldUpTo);

    /// <summary>The id of the front end that holds the socket. Throws <see cref="SocketNotFoundException"/> when none does.</summary>
    [Alias("GetFrontEnd")]
    Task<string> GetFrontEnd();
}
