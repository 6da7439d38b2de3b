using System.Diagnostics;

namespace Orleans.Rooms.Tests.Infrastructure;

/// <summary>
/// Waits, bounded, for a state the cluster reaches on its own (a purge, a grain timer) and announces to nobody:
/// the one place these tests poll.
/// </summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var limit = within ?? TestFrontEnd.Timeout;
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < limit, $"Not within {limit}: {what}");
            await Task.Delay(50);
        }
    }
}
