using System.Collections.Concurrent;

namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// The front ends hosted in this very process (the embedded shape: a front end and its silo share one
/// process and one service container). Grains reach such a front end's observer object directly instead of
/// through an Orleans message to itself: same object, same calls, no serialization and no scheduling hop.
/// Empty in a stand-alone silo and unused in a client front end.
/// </summary>
internal sealed class LocalFrontEnds
{
    private readonly ConcurrentDictionary<string, IFrontEndObserver> _observers = new(StringComparer.Ordinal);

    public void Add(string frontEndId, IFrontEndObserver observer) => _observers[frontEndId] = observer;

    public void Remove(string frontEndId) => _observers.TryRemove(frontEndId, out _);

    /// <summary>The front end of <paramref name="frontEndId"/> when it is in this process, else null.</summary>
    public IInProcessDelivery? InProcess(string frontEndId)
        => _observers.TryGetValue(frontEndId, out var local) ? local as IInProcessDelivery : null;

    /// <summary>The in-process observer of <paramref name="frontEndId"/>, else <paramref name="remote"/>.</summary>
    public IFrontEndObserver? Resolve(string? frontEndId, IFrontEndObserver? remote)
        => frontEndId is not null && _observers.TryGetValue(frontEndId, out var local) ? local : remote;
}
