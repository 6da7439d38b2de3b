using Orleans.Concurrency;
using Orleans.Placement;

namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// The ids of the attached front ends, for blasts and for finding a socket's front end. Calls no other
/// grain. Its memory is rebuilt by the front ends' renewals (each renewal registers again), and front-end
/// grains unregister the front ends they purge. An entry nobody renews lapses with its lease: the front end
/// died and its grain, which would have purged it, was lost with a silo. Left listed, it would cost every
/// blast and every lookup of an unknown socket a call to a grain that first waits for a renewal that never comes.
/// </summary>
[KeepAlive]
[Reentrant] // a young registry's read waits out a renewal period; the renewals it waits for (and a listed front end's check) must not queue behind it
[Immovable] // its state lives in memory only: a migration (rebalancer, repartitioner) would lose it
internal sealed class FrontEndRegistryGrain(TimeProvider time) : Grain, IFrontEndRegistryGrain
{
    private readonly long _activatedAt = time.GetTimestamp();
    private bool _settled;

    private readonly Dictionary<string, DateTimeOffset> _leaseEnds = new(StringComparer.Ordinal);
    private string[]? _snapshot;

    public Task Register(string frontEndId, TimeSpan lease)
    {
        ArgumentException.ThrowIfNullOrEmpty(frontEndId);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        var ends = time.GetUtcNow() + lease;
        if (!_leaseEnds.ContainsKey(frontEndId))
        {
            _snapshot = null;
        }

        _leaseEnds[frontEndId] = ends;
        return Task.CompletedTask;
    }

    public Task Unregister(string frontEndId)
    {
        if (_leaseEnds.Remove(frontEndId))
        {
            _snapshot = null;
        }

        return Task.CompletedTask;
    }

    public async Task<string[]> GetFrontEnds()
    {
        await SettleAsync();
        DropLapsed();
        return _snapshot ??= [.. _leaseEnds.Keys];
    }

    public async Task<bool> IsAttached(string frontEndId)
    {
        // A front end listed is attached whatever the registry's age: only a "no" has to wait for the renewals.
        if (_leaseEnds.TryGetValue(frontEndId, out var ends) && ends >= time.GetUtcNow())
        {
            return true;
        }

        await SettleAsync();
        DropLapsed();
        return _leaseEnds.ContainsKey(frontEndId);
    }

    private async Task SettleAsync()
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
    }

    /// <summary>Drops the entries whose lease passed (a handful of front ends: a scan per read costs nothing).</summary>
    private void DropLapsed()
    {
        var now = time.GetUtcNow();
        foreach (var (frontEndId, ends) in _leaseEnds)
        {
            if (ends < now)
            {
                _leaseEnds.Remove(frontEndId);
                _snapshot = null;
            }
        }
    }
}
