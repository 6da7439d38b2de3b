using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Directory;
using Orleans.Rooms.Lease;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Presence;
using Orleans.Runtime;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// The front end's one door to the cluster: every grain it calls, by key, with one retry policy. A call that
/// meets the cluster healing (a silo going away or gone, a message it could not take, a time-out) is retried
/// with a doubling delay for up to <see cref="FrontEndOptions.ClusterRetryFor"/>; every call retried is
/// idempotent, but a delivery, which is retried only while its message was never handed over
/// (<see cref="ClusterErrors"/>). The lease's own calls are tried once: the next renewal is their retry.
/// </summary>
internal sealed partial class ClusterDoor(IGrainFactory grains, FrontEndIdentity identity, IOptions<FrontEndOptions> options, ILogger<ClusterDoor> logger) : IClusterDoor
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    private readonly TimeSpan _retryFor = options.Value.ClusterRetryFor;

    private IFrontEndGrain Own => grains.GetGrainByKey<IFrontEndGrain>(identity.Id);

    private IFrontEndRoomsGrain OwnRooms => grains.GetGrainByKey<IFrontEndRoomsGrain>(identity.Id);

    private IFrontEndRegistryGrain Registry => grains.GetGrainByKey<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key);

    public Task<LeaseState> RenewAsync(IFrontEndObserver observer, TimeSpan lease, TimeSpan timeout) => Own.Renew(observer, lease).WaitAsync(timeout);

    public Task DetachAsync(TimeSpan timeout) => Own.Detach().WaitAsync(timeout);

    public Task DisconnectAsync(string socketId) => Retry(() => Own.Disconnect(socketId));

    public Task RelistSocketsAsync(string[] socketIds) => Retry(() => Own.RelistSockets(socketIds));

    public Task CommitAsync(FrontEndJournal journal) => Retry(() => Own.Commit(journal));

    public Task AdoptAsync(string socketId, string fromFrontEnd) => Retry(() => Own.Adopt(socketId, fromFrontEnd));

    public Task ListAsync(string[] rooms, bool listable, bool relist) => Retry(() => OwnRooms.Register(rooms, listable, relist));

    public Task DelistAsync(string[] rooms) => Retry(() => OwnRooms.Unregister(rooms));

    public Task<PresenceState?> PresenceAsync(string room, PresenceBatch batch) => Retry(() => OwnRooms.Presence(room, batch));

    public Task<PresenceState> PresenceStateAsync(string room, CancellationToken cancellationToken)
        => Retry(() => grains.GetGrainByKey<IRoomGrain>(room).GetPresence(), cancellationToken);

    public Task<RoomFrontEnds> FrontEndsOfAsync(string room, CancellationToken cancellationToken)
        => Retry(() => grains.GetGrainByKey<IRoomGrain>(room).GetFrontEnds(cancellationToken), cancellationToken);

    public Task<RoomFrontEnds> ListedFrontEndsOfAsync(string room, CancellationToken cancellationToken)
        => Retry(() => grains.GetGrainByKey<IRoomGrain>(room).GetListedFrontEnds(), cancellationToken);

    public Task<RoomDirectoryPage> DirectoryPageAsync(int shard, string? after, int count, CancellationToken cancellationToken)
        => Retry(() => grains.GetGrainByKey<IRoomDirectoryGrain>(shard).Page(after, count), cancellationToken);

    public Task<string[]> FrontEndsAsync(CancellationToken cancellationToken) => Retry(() => Registry.GetFrontEnds(), cancellationToken);

    public Task<bool> IsAttachedAsync(string frontEndId) => Retry(() => Registry.IsAttached(frontEndId));

    public Task<string> LocateAsync(string socketId) => Retry(() => grains.GetGrainByKey<ISocketGrain>(socketId).GetFrontEnd());

    public IFrontEnd FrontEnd(string frontEndId) => new RemoteFrontEnd(frontEndId, this);

    internal IFrontEndGrain FrontEndGrain(string frontEndId) => grains.GetGrainByKey<IFrontEndGrain>(frontEndId);

    internal Task Retry(Func<Task> call) => Retry(async () =>
    {
        await call();
        return true;
    });

    /// <summary>Retries an idempotent call that met a silo going away or a message that was not delivered.</summary>
    internal Task<T> Retry<T>(Func<Task<T>> call, CancellationToken cancellationToken = default) => Retry(call, ClusterErrors.IsTransient, cancellationToken);

    /// <summary>
    /// Retries a call that is not idempotent (a delivery) only while its message was never handed over: a
    /// time-out or a lost silo may have delivered it already, and the caller hears of those instead.
    /// </summary>
    internal Task RetryUndelivered(Func<Task> call) => Retry(async () =>
    {
        await call();
        return true;
    }, ClusterErrors.IsUndelivered, CancellationToken.None);

    private async Task<T> Retry<T>(Func<Task<T>> call, Func<Exception, bool> retryable, CancellationToken cancellationToken)
    {
        var started = Environment.TickCount64;
        var delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (retryable(ex) && !cancellationToken.IsCancellationRequested && Environment.TickCount64 - started < _retryFor.TotalMilliseconds)
            {
                LogRetrying(ex, delay, Environment.TickCount64 - started);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "A cluster call failed and is tried again in {Delay} ({Elapsed} ms since its first try).")]
    private partial void LogRetrying(Exception exception, TimeSpan delay, long elapsed);
}
