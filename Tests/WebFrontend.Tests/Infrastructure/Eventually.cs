namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

public static class Eventually
{
    /// <summary>
    /// Polls <paramref name="condition"/> until it holds, for what the server finishes after the client has
    /// been answered (a disconnect's clean-up): bounded in time, failing with <paramref name="what"/>.
    /// </summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TestSocket.Timeout);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not within {within ?? TestSocket.Timeout}: {what}");
            }

            await Task.Delay(50);
        }
    }
}
