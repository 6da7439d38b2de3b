using Orleans.Placement;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// The ids of the attached front ends, for blasts and for finding a socket's front end. Calls no other
/// grain. Its memory is rebuilt by the front ends' renewals (each renewal registers again), and front-end
/// grains unregister the front ends they purge.
/// </summary>
[KeepAlive]
[Immovable] // its state lives in memory only: a migration (rebalancer, repartitioner) would lose it
internal sealed class FrontEndRegistryGrain(TimeProvider time) : Grain, IFrontEndRegistryGrain
{
    private readonly long _activatedAt = time.GetTimestamp();
    private bool _settled;

    private readonly HashSet<string> _frontEnds = new(StringComparer.Ordinal);
    private string[]? _snapshot;

    public Task Register(string frontEndId)
    {
        if (_frontEnds.Add(frontEndId))
        {
            _snapshot = null;
        }

        return Task.CompletedTask;
    }

    public Task Unregister(string frontEndId)
    {
        if (_frontEnds.Remove(frontEndId))
        {
            _snapshot = null;
        }

        return Task.CompletedTask;
    }

    public async Task<string[]> GetFrontEnds()
    {
        // Just activated (the silo that had the list went): every live front end registers again within
        // one renewal period, so a list asked for sooner would miss some. Wait out the rest of it.
        if (!_settled)
        {
            var young = FrontEndRenewal.MaxPeriod - time.GetElapsedTime(_activatedAt);
            if (young > TimeSpan.Zero)
            {
                await Task.Delay(young, time);
            }

            _settled = true;
        }

        return _snapshot ??= [.. _frontEnds];
    }
}
