using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.Telemetry;

/// <summary>
/// The front end's instruments on meter <see cref="RoomsTelemetry.MeterName"/>. Counters are added to once
/// per change, per broadcast, per batch of deliveries; the gauges read this front end's sockets when they
/// are collected, so nothing is counted per message on the delivery path.
/// </summary>
internal sealed class RoomsMetrics
{
    private readonly Counter<long> _memberships;
    private readonly Counter<long> _broadcasts;
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _slowDisconnects;
    private readonly Histogram<double> _requestDuration;

    public RoomsMetrics(IMeterFactory meters, IServiceProvider services)
    {
        var meter = meters.Create(RoomsTelemetry.MeterName);

        // Read at collection time: the sockets depend on these instruments, not the other way round.
        var sockets = new Lazy<LocalSockets>(services.GetRequiredService<LocalSockets>);
        meter.CreateObservableUpDownCounter("rooms.sockets.connected", () => sockets.Value.Count, "{socket}", "Sockets connected to this front end.");
        meter.CreateObservableGauge("rooms.delivery.queue_depth", () => sockets.Value.PendingMessages(), "{message}", "Messages queued on this front end's connections and not yet written.");
        _memberships = meter.CreateCounter<long>("rooms.memberships.changed", "{membership}", "Rooms joined (change=join) and left (change=leave) by this front end's sockets.");
        _broadcasts = meter.CreateCounter<long>("rooms.broadcasts", "{broadcast}", "Broadcasts (kind=broadcast) and blasts (kind=blast) sent from this front end.");
        _deliveries = meter.CreateCounter<long>("rooms.deliveries", "{message}", "Event messages queued to this front end's sockets.");
        _slowDisconnects = meter.CreateCounter<long>("rooms.sockets.slow_disconnects", "{socket}", "Sockets disconnected for having too many messages pending (Rooms:Limits:MaxPendingMessagesPerSocket).");
        _requestDuration = meter.CreateHistogram<double>("rooms.virtual_request.duration", "s", "Duration of virtual requests (socket requests), by route.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    }

    public void MembershipsChanged(int joined, int left)
    {
        if (joined > 0)
        {
            _memberships.Add(joined, new KeyValuePair<string, object?>("change", "join"));
        }

        if (left > 0)
        {
            _memberships.Add(left, new KeyValuePair<string, object?>("change", "leave"));
        }
    }

    public void Broadcast() => _broadcasts.Add(1, new KeyValuePair<string, object?>("kind", "broadcast"));

    public void Blast() => _broadcasts.Add(1, new KeyValuePair<string, object?>("kind", "blast"));

    public void Delivered(int messages)
    {
        if (messages > 0)
        {
            _deliveries.Add(messages);
        }
    }

    public void SlowDisconnect() => _slowDisconnects.Add(1);

    public void VirtualRequest(string method, string? route, int statusCode, TimeSpan duration)
    {
        var tags = new TagList
        {
            { "http.request.method", method },
            { "http.route", route ?? "(none)" },
            { "http.response.status_code", statusCode },
        };
        _requestDuration.Record(duration.TotalSeconds, tags);
    }
}
