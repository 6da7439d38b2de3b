namespace Orleans.Rooms.Delivery;

/// <summary>The ids of the attached front ends, for blasts. Calls no other grain.</summary>
[KeepAlive]
internal sealed class FrontEndRegistryGrain : Grain, IFrontEndRegistryGrain
{
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

    public Task<string[]> GetFrontEnds() => Task.FromResult(_snapshot ??= [.. _frontEnds]);
}
