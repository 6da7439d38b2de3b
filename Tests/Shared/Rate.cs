namespace Orleans.Rooms.Testing;

/// <summary>
/// The ticks a load runs on (a broadcast, a read, every <c>every</c>, through a fault): a <see cref="PeriodicTimer"/>,
/// so the load keeps its rate however long each request takes, and stops at the tick its stop token is cancelled
/// at; and the checks of <see cref="Eventually"/>, the one poll, for states nothing announces. Linked into each test
/// project.
/// </summary>
public sealed class Rate(TimeSpan every) : IDisposable
{
    private readonly PeriodicTimer _ticks = new(every);

    /// <summary>Waits for the next tick; false once <paramref name="stop"/> is cancelled.</summary>
    public async Task<bool> NextAsync(CancellationToken stop = default)
    {
        try
        {
            return await _ticks.WaitForNextTickAsync(stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return false;
        }
    }

    public void Dispose() => _ticks.Dispose();
}
