using System.Diagnostics;
using OpenTelemetry;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// An in-memory exporter: keeps every span the tracer provider exports, and completes a wait once a span that
/// matches is exported. Add it with <c>tracing.AddProcessor(new SimpleActivityExportProcessor(collector))</c>.
/// </summary>
public sealed class SpanCollector : BaseExporter<Activity>
{
    private readonly List<Activity> _spans = [];
    private readonly List<(Func<Activity, bool> Match, TaskCompletionSource<Activity> Found)> _waiters = [];

    public override ExportResult Export(in Batch<Activity> batch)
    {
        foreach (var span in batch)
        {
            lock (_spans)
            {
                _spans.Add(span);
                foreach (var waiter in _waiters.Where(w => w.Match(span)).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Found.TrySetResult(span);
                }
            }
        }

        return ExportResult.Success;
    }

    /// <summary>The spans exported so far of trace <paramref name="traceId"/>.</summary>
    public IReadOnlyList<Activity> Trace(ActivityTraceId traceId)
    {
        lock (_spans)
        {
            return [.. _spans.Where(s => s.TraceId == traceId)];
        }
    }

    /// <summary>The first exported span that matches, waiting for it at most <paramref name="within"/>; fails naming <paramref name="what"/>.</summary>
    public async Task<Activity> WaitForAsync(Func<Activity, bool> match, string what, TimeSpan within)
    {
        var found = new TaskCompletionSource<Activity>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_spans)
        {
            if (_spans.FirstOrDefault(match) is { } span)
            {
                return span;
            }

            _waiters.Add((match, found));
        }

        try
        {
            return await found.Task.WaitAsync(within);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No span exported within {within.TotalSeconds:F0} s: {what}.");
        }
    }
}
