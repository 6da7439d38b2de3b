using System.Diagnostics.Metrics;

namespace Orleans.Rooms.Tests.CostModel;

/// <summary>
/// Orleans' own messaging counters (meter <c>Microsoft.Orleans</c>, src/Orleans.Core/Diagnostics/Metrics in
/// dotnet/orleans), read in-process with a <see cref="MeterListener"/>, for the silos and client of one test
/// cluster only (each host's meter is made by its own <see cref="IMeterFactory"/>: the meter's scope tells them
/// apart from other clusters of the same test process):
/// <list type="bullet">
/// <item><c>orleans-messaging-processing-dispatcher-received</c>: messages handed to a grain activation, by
/// direction; its requests are the grain calls the silos took (not calls to system targets or observers).</item>
/// <item><c>orleans-messaging-sent-messages-size</c>: one measurement per message written to a connection, by
/// connection direction (silo to silo, client to gateway, gateway to client) and message direction.</item>
/// <item><c>orleans-messaging-processing-dispatcher-forwarded</c>: requests a silo sent on to another activation
/// of the grain (one forwarded alone; those a losing duplicate activation held are not counted).</item>
/// <item><c>orleans-messaging-sent-local</c>: messages a silo sent to itself.</item>
/// <item><c>orleans-messaging-pings-sent</c>: membership probes.</item>
/// </list>
/// </summary>
public sealed class OrleansMessageCounters : IDisposable
{
    public const string MeterName = "Microsoft.Orleans";
    private const string DispatcherReceived = "orleans-messaging-processing-dispatcher-received";
    private const string DispatcherForwarded = "orleans-messaging-processing-dispatcher-forwarded";
    private const string SentMessages = "orleans-messaging-sent-messages-size";
    private const string SentLocal = "orleans-messaging-sent-local";
    private const string PingsSent = "orleans-messaging-pings-sent";

    private readonly MeterListener _listener = new();
    private readonly HashSet<object> _scopes;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _sent = new(StringComparer.Ordinal);
    private readonly Dictionary<(Meter, string, string), long> _observed = [];
    private long _pings;

    public OrleansMessageCounters(IEnumerable<IMeterFactory> hosts)
    {
        _scopes = [.. hosts];
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName && instrument.Meter.Scope is { } scope && _scopes.Contains(scope)
                && instrument.Name is DispatcherReceived or DispatcherForwarded or SentMessages or SentLocal or PingsSent)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
        {
            lock (_lock)
            {
                if (instrument.Name == SentMessages)
                {
                    var key = $"{Tag(tags, "ConnectionDirection")}/{Tag(tags, "MessageDirection")}";
                    _sent[key] = _sent.GetValueOrDefault(key) + 1;
                }
                else if (instrument.Name == PingsSent)
                {
                    _pings += value;
                }
            }
        });
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            // Observable counters report their running total, per tag set, each time they are recorded.
            var key = instrument.Name == DispatcherReceived ? Tag(tags, "Direction") : "";
            lock (_lock)
            {
                var slot = (instrument.Meter, instrument.Name, key + "|" + Tag(tags, "Context"));
                _observed[slot] = value;
            }
        });
        _listener.Start();
    }

    /// <summary>The counters now, summed over the cluster's hosts.</summary>
    public Counts Read()
    {
        _listener.RecordObservableInstruments();
        lock (_lock)
        {
            long Observed(string instrument, Func<string, bool> tags) => _observed.Where(o => o.Key.Item2 == instrument && tags(o.Key.Item3)).Sum(o => o.Value);
            return new Counts(
                GrainRequests: Observed(DispatcherReceived, t => t.StartsWith("Request|", StringComparison.Ordinal) || t.StartsWith("OneWay|", StringComparison.Ordinal)),
                ClientRequests: _sent.GetValueOrDefault("ClientToGateway/Request"),
                ObserverRequests: _sent.GetValueOrDefault("GatewayToClient/Request"),
                SiloToSilo: _sent.Where(s => s.Key.StartsWith("SiloToSilo/", StringComparison.Ordinal)).Sum(s => s.Value),
                Local: Observed(SentLocal, _ => true),
                Pings: _pings,
                Forwarded: Observed(DispatcherForwarded, _ => true));
        }
    }

    public void Dispose() => _listener.Dispose();

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value?.ToString() ?? "";
            }
        }

        return "";
    }

    /// <summary>
    /// Running totals: requests delivered to grain activations; requests the client (every in-process front end)
    /// sent to its gateways; requests gateways sent to the client (calls of front ends' observers); messages between
    /// silos (requests, responses, forwards); messages a silo sent itself; membership probes; requests forwarded.
    /// </summary>
    public readonly record struct Counts(long GrainRequests, long ClientRequests, long ObserverRequests, long SiloToSilo, long Local, long Pings, long Forwarded)
    {
        public static Counts operator -(Counts a, Counts b) => new(
            a.GrainRequests - b.GrainRequests,
            a.ClientRequests - b.ClientRequests,
            a.ObserverRequests - b.ObserverRequests,
            a.SiloToSilo - b.SiloToSilo,
            a.Local - b.Local,
            a.Pings - b.Pings,
            a.Forwarded - b.Forwarded);
    }
}
