namespace Orleans.Rooms;

/// <summary>A grain whose state lives in memory (rebuilt from front ends), with named intent for its lifetime.</summary>
internal abstract class InMemoryGrain : Grain
{
    /// <summary>Never collected for idleness: it holds memberships.</summary>
    protected void KeepActive() => DelayDeactivation(Timeout.InfiniteTimeSpan);

    /// <summary>Back to the normal idle collection: nothing left that would be lost.</summary>
    protected void AllowCollection() => DelayDeactivation(TimeSpan.Zero);
}
