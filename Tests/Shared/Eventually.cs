using System.Diagnostics;

namespace Orleans.Rooms.Testing;

/// <summary>
/// Waits, bounded, for a state that another process or a grain timer reaches and announces to nobody (a purge,
/// a delisting, a cluster view): the one place the test projects poll. What has an event waits on it instead.
/// Linked into each test project.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromSeconds(15);

    public static readonly TimeSpan DefaultEvery = TimeSpan.FromMilliseconds(50);

    /// <summary>Checks <paramref name="condition"/> until it holds, at most <paramref name="within"/>; fails naming <paramref name="what"/>.</summary>
    public static Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
        => UntilAsync(condition, () => what, within ?? DefaultLimit, DefaultEvery);

    /// <summary>
    /// Checks <paramref name="condition"/> every <paramref name="every"/> until it holds and returns how long that
    /// took; past <paramref name="limit"/> throws a <see cref="TimeoutException"/> with <paramref name="describe"/>,
    /// asked then, so that it can name the last state seen.
    /// </summary>
    public static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, Func<string> describe, TimeSpan limit, TimeSpan every)
    {
        var started = Stopwatch.GetTimestamp();
        using var checks = new Rate(every);
        while (!await condition())
        {
            if (Stopwatch.GetElapsedTime(started) > limit)
            {
                throw new TimeoutException($"Not within {limit.TotalSeconds:F1} s: {describe()}");
            }

            await checks.NextAsync();
        }

        return Stopwatch.GetElapsedTime(started);
    }
}
