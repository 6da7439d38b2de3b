using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// Holds one front end's delivery observer under a lease that the front end renews. Reentrant: it only
/// forwards, and ordering per sender holds because a sender awaits each delivery before the next.
/// Calls only the front-end registry.
/// </summary>
[Reentrant, KeepAlive]
internal sealed partial class FrontEndGrain(TimeProvider time, ILogger<FrontEndGrain> logger) : Grain, IFrontEndGrain
{
    private IFrontEndObserver? _observer;
    private DateTimeOffset _leaseEnds;
    private bool _registered;

    private string Id => this.GetPrimaryKeyString();

    public async Task Attach(IFrontEndObserver observer, TimeSpan lease)
    {
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        _observer = observer;
        _leaseEnds = time.GetUtcNow() + lease;
        if (!_registered)
        {
            await GrainFactory.GetGrainByKey<IFrontEndRegistryGrain>(0).Register(Id);
            _registered = true;
        }
    }

    public async Task Detach()
    {
        _observer = null;
        if (_registered)
        {
            await GrainFactory.GetGrainByKey<IFrontEndRegistryGrain>(0).Unregister(Id);
            _registered = false;
        }

        DeactivateOnIdle();
    }

    public async Task Deliver(DeliveryBatch batch)
    {
        if (_observer is not { } observer || time.GetUtcNow() > _leaseEnds)
        {
            // The front end is gone (or has not renewed): its sockets are gone with it. Dropping is the
            // only sensible outcome. (Removing such a front end's sockets from their rooms is not built yet.)
            LogDropped(Id, batch.EventName);
            return;
        }

        try
        {
            await observer.Deliver(batch);
        }
        catch (Exception ex)
        {
            // Same reasoning: a front end that cannot be reached has lost its connections. The senders'
            // other front ends must not see this broadcast fail because of it.
            LogUnreachable(ex, Id, batch.EventName);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Front end {FrontEndId} has no live observer; dropped a batch of event {EventName}.")]
    private partial void LogDropped(string frontEndId, string eventName);

    [LoggerMessage(LogLevel.Warning, "Front end {FrontEndId} could not be reached; dropped a batch of event {EventName}.")]
    private partial void LogUnreachable(Exception exception, string frontEndId, string eventName);
}
