using System.Collections.Concurrent;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Tests.CostModel;

/// <summary>
/// One silo's count of grain calls, by interface and method: every call an activation on this silo took
/// (incoming), and every call a grain here made to a front end's observer (outgoing: an observer is no
/// activation, so no incoming filter sees it). One per silo, read by <see cref="CostModelTests"/> from the silo's
/// services; the sum over the silos is what the cost model counts.
/// </summary>
public sealed class CallTally : IIncomingGrainCallFilter, IOutgoingGrainCallFilter
{
    /// <summary>The key under which calls to a front end's observer are counted.</summary>
    public const string ObserverPrefix = "observer:";

    /// <summary>
    /// The prefix of calls to Orleans' own system targets that filters see (the grain directory's partitions, which
    /// an activation registers with and a silo's first call to a grain looks it up in); no grain activation takes them.
    /// </summary>
    public const string RuntimePrefix = "orleans:";

    /// <summary>The prefix of a grain timer's ticks: Orleans delivers each to its activation as a message.</summary>
    public const string TimerPrefix = "timer:";

    /// <summary>The suffix of a call made on a silo outside any grain (GoneFrontEndSweeper's registry reads).</summary>
    public const string SiloSuffix = "@silo";

    /// <summary>The suffix of a runtime call the external client made (its own upkeep, not a front end's call).</summary>
    public const string ClientSuffix = "@client";

    private readonly ConcurrentDictionary<string, long> _calls = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_calls, StringComparer.Ordinal);

    Task IIncomingGrainCallFilter.Invoke(IIncomingGrainCallContext context)
    {
        _calls.AddOrUpdate(KeyOf(context), 1, (_, n) => n + 1);
        return context.Invoke();
    }

    /// <summary>
    /// <c>Interface.Method</c> for the service's calls; a grain timer's tick as <see cref="TimerPrefix"/> and its grain
    /// type (a system target's as a runtime call); a registry read from a silo (the sweeper's) apart from a front end's.
    /// </summary>
    private static string KeyOf(IIncomingGrainCallContext context)
    {
        var type = context.InterfaceMethod?.DeclaringType;
        var target = context.TargetId.Type.ToString() ?? "";
        if (type?.Name == "IGrainTimerInvoker")
        {
            return target.StartsWith("sys.", StringComparison.Ordinal) ? $"{RuntimePrefix}timer" : $"{TimerPrefix}{target}";
        }

        if (type?.Namespace?.StartsWith("Orleans.Rooms", StringComparison.Ordinal) != true)
        {
            return $"{RuntimePrefix}{type?.Name}.{context.MethodName}{(FromClient(context) ? ClientSuffix : "")}";
        }

        var key = $"{type.Name}.{context.MethodName}";
        return type == typeof(IFrontEndRegistryGrain) && context.MethodName == nameof(IFrontEndRegistryGrain.GetFrontEnds) && !FromClient(context)
            ? key + SiloSuffix
            : key;
    }

    /// <summary>Whether the call came from an external client (the test's front ends), not a silo or a grain.</summary>
    private static bool FromClient(IIncomingGrainCallContext context)
        => context.SourceId?.ToString() is { } source && source.StartsWith("sys.client/", StringComparison.Ordinal) && !source.Contains("/hosted-", StringComparison.Ordinal);

    Task IOutgoingGrainCallFilter.Invoke(IOutgoingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IFrontEndObserver))
        {
            _calls.AddOrUpdate($"{ObserverPrefix}{context.MethodName}", 1, (_, n) => n + 1);
        }

        return context.Invoke();
    }
}
