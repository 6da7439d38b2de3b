using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.Sockets;

/// <summary>A front end without resumable sockets (a test's or a benchmark's core): it has none to hand over.</summary>
internal sealed class NoSocketHandOvers : ISocketHandOvers
{
    public Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd) => Task.FromResult<string[]?>(null);

    public Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd) => Task.FromResult<SocketHandOver?>(null);

    public Task AbortHandOver(string socketId, string toFrontEnd) => Task.CompletedTask;

    public bool IsKeptInCluster(string socketId) => false;

    public IReadOnlyList<(string SocketId, string ToFrontEnd)> MovedAwayIn(DeliveryBatch batch) => [];

    public bool HoldsResumable => false;
}
