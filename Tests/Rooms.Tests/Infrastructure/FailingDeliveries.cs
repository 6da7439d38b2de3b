using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.Tests.Infrastructure;

/// <summary>How a <see cref="FailingDeliveries"/> delivery fails.</summary>
public enum DeliveryFailure
{
    /// <summary>As when the silo of the front end's grain stops: the runtime cancels the call before sending it, so nothing reaches the front end.</summary>
    CancelledBeforeSending,

    /// <summary>As when the front end's gateway silo dies with the call on its way in: it times out, and nothing reached the front end.</summary>
    TimedOutOnTheWay,

    /// <summary>As when that gateway dies with the answer on its way out: it times out, and the front end took the batches.</summary>
    TimedOutAfterArriving,
}

/// <summary>
/// A front end's observer whose first <paramref name="failFirst"/> deliveries fail as <paramref name="how"/> says.
/// Every other call passes through (each delivery held until <paramref name="holdUntil"/> completes, as a slow front
/// end would), and the deliveries are counted.
/// </summary>
internal sealed class FailingDeliveries(IFrontEndObserver inner, int failFirst, DeliveryFailure how = DeliveryFailure.CancelledBeforeSending, Task? holdUntil = null) : IFrontEndObserver
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _deliveries;
    private int _calls;
    private int _batches;

    /// <summary>Completes once a delivery waits for <c>holdUntil</c>.</summary>
    public Task Held => _held.Task;

    /// <summary>The deliveries failed so far.</summary>
    public int Failed => Math.Min(Volatile.Read(ref _deliveries), failFirst);

    /// <summary>The delivery calls passed through (<see cref="Deliver"/> and <see cref="DeliverAll"/>).</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>The batches those calls carried.</summary>
    public int Batches => Volatile.Read(ref _batches);

    public Task Deliver(DeliveryBatch batch) => Pass([batch], () => inner.Deliver(batch));

    public Task DeliverAll(DeliveryBatch[] batches) => Pass(batches, () => inner.DeliverAll(batches));

    public Task<bool> Change(string socketId, MembershipChange change) => inner.Change(socketId, change);

    public Task<MembersChangeOutcome> ChangeMembers(string room, MembershipChange change) => inner.ChangeMembers(room, change);

    public Task<string[]> GetMembers(string room) => inner.GetMembers(room);

    public Task<string[]?> GetSocketRooms(string socketId) => inner.GetSocketRooms(socketId);

    public Task<bool> Locate(string socketId) => inner.Locate(socketId);

    public Task<PresenceEntry[]> GetPresence(string room) => inner.GetPresence(room);

    public Task<string[]> Occupied(string[] rooms) => inner.Occupied(rooms);

    public Task<string[]> ListedRooms(int shard, string? after, int count) => inner.ListedRooms(shard, after, count);

    public Task<string[]?> BeginHandOver(string socketId, byte[] secret, long seq, string toFrontEnd) => inner.BeginHandOver(socketId, secret, seq, toFrontEnd);

    public Task<SocketHandOver?> EndHandOver(string socketId, string toFrontEnd) => inner.EndHandOver(socketId, toFrontEnd);

    public Task AbortHandOver(string socketId, string toFrontEnd) => inner.AbortHandOver(socketId, toFrontEnd);

    private Task Pass(DeliveryBatch[] batches, Func<Task> call)
    {
        if (Interlocked.Increment(ref _deliveries) <= failFirst)
        {
            return how switch
            {
                DeliveryFailure.CancelledBeforeSending => Task.FromException(new OperationCanceledException("the silo is stopping (as the runtime cancels a call it has not sent)")),
                DeliveryFailure.TimedOutOnTheWay => Task.FromException(new TimeoutException("no answer (as when the front end's gateway died with the call on its way in)")),
                _ => TimedOutAfterArrivingAsync(),
            };
        }

        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _batches, batches.Length);
        return holdUntil is null || holdUntil.IsCompleted ? call() : HeldAsync(holdUntil);

        async Task HeldAsync(Task until)
        {
            _held.TrySetResult();
            await until;
            await call();
        }

        async Task TimedOutAfterArrivingAsync()
        {
            await call();
            throw new TimeoutException("no answer (as when the front end's gateway died with the answer on its way out)");
        }
    }
}
