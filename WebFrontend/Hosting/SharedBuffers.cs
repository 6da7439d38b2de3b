namespace Orleans.Rooms.WebFrontend.Hosting;

/// <summary>
/// Sizes the shared byte-array pool for a broadcast to a large room. Each SignalR connection writes through
/// a pipe that rents a 4 KiB segment from <c>ArrayPool&lt;byte&gt;.Shared</c> for every message it queues and
/// returns it once the message is sent; a broadcast to N local sockets holds N segments at once. The pool
/// keeps only 32 arrays of a size per core by default, so past a few dozen members almost every delivery
/// allocated a fresh 4 KiB array and dropped it (3.6 KB per delivery in a 5,000-member room, and the
/// background GC that followed took a tenth of the front end's CPU). Keeping up to
/// <see cref="ArraysPerSize"/> of a size across all cores lets the segments be reused from one broadcast to
/// the next; the pool still trims what goes unused.
/// </summary>
internal static class SharedBuffers
{
    /// <summary>At most this many arrays of one size kept (64 MiB of 4 KiB segments: a 16,000-member room per front end).</summary>
    internal const int ArraysPerSize = 16_384;

    private const string Variable = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";

    /// <summary>
    /// Must run first in <c>Main</c>: the runtime reads the setting once, when the pool is first used. One set
    /// by the environment is left as it is.
    /// </summary>
    public static void KeepEnoughForFanOut()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
        {
            // The pool has one partition per core, each holding this many arrays of each size.
            var perCore = Math.Max(32, ArraysPerSize / Environment.ProcessorCount);
            Environment.SetEnvironmentVariable(Variable, perCore.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
