using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// The old front end's side of moving a resumable socket to another front end (docs/design.md, "Moving a
/// socket"): <see cref="LocalSockets"/>, or, for a front end without connections (a test, a benchmark),
/// <see cref="NoSocketHandOvers"/>. See <see cref="FrontEnds.IFrontEndObserver.BeginHandOver"/>.
/// </summary>
internal interface ISocketHandOvers
{
    Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd);

    Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd);

    Task AbortHandOver(string socketId, string toFrontEnd);

    /// <summary>
    /// Whether this front end holds <paramref name="socketId"/> as a resumable socket that the cluster keeps
    /// (<see cref="ResumableSocket.KeptInCluster"/>): its rooms and the events delivered to it are recorded.
    /// </summary>
    bool IsKeptInCluster(string socketId);

    /// <summary>
    /// The sockets that moved away from this front end a moment ago (seconds) and were in any of the batch's rooms (any,
    /// for a blast), with where they went: a broadcast that read this front end as theirs before the new front end
    /// listed them, and reached this one after they left, follows them there (docs/design.md, "Moving a socket").
    /// </summary>
    IReadOnlyList<(string SocketId, string ToFrontEnd)> MovedAwayIn(DeliveryBatch batch);

    /// <summary>Whether it holds any resumable socket.</summary>
    bool HoldsResumable { get; }
}
