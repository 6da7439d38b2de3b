namespace Orleans.Rooms;

/// <summary>
/// Whether this silo has begun to stop (its <see cref="ServiceLifecycleStage.Active"/> stage stopping, before its
/// grains deactivate). Tidying that can wait is skipped from then on, as a room grain's deactivation on a stopping
/// silo skips it already: in a cluster of one it would call grains that can no longer be placed anywhere and fail
/// loudly, once per room; in a larger cluster what it would tidy is harmless stale or rebuilt from the front ends.
/// </summary>
internal sealed class SiloStopping : ILifecycleParticipant<ISiloLifecycle>
{
    private volatile bool _stopping;

    public bool IsStopping => _stopping;

    void ILifecycleParticipant<ISiloLifecycle>.Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(
            nameof(SiloStopping),
            ServiceLifecycleStage.Active,
            _ => Task.CompletedTask,
            _ =>
            {
                _stopping = true;
                return Task.CompletedTask;
            });
}
