using Microsoft.Extensions.Logging;

namespace Orleans.Rooms.Presence;

/// <summary>
/// One timer for every room of this silo with a <c>presence_diff</c> waiting (docs/presence.md, "Cost"): a room
/// whose diff is due is handed its flush on its grain's own scheduler (<see cref="PresenceSequencer.FlushDue"/>).
/// A grain timer per room cost a timer, its registration and a message through the grain's queue for each diff;
/// here a room's diff costs a queue entry and one work item.
/// </summary>
/// <remarks>
/// Rooms share a delay in practice (each front end's <see cref="PresenceBatch.DiffDelay"/>), so a room scheduled
/// now is due after every room already waiting, and the timer is moved only when one falls due sooner.
/// </remarks>
internal sealed partial class DiffClock : IDisposable
{
    private readonly Lock _lock = new();
    private readonly PriorityQueue<PresenceSequencer, long> _waiting = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private long _armedFor = long.MaxValue;

    public DiffClock(TimeProvider time, ILogger<DiffClock> logger)
    {
        _time = time;
        _logger = logger;
        _timer = time.CreateTimer(static state => ((DiffClock)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Flushes the room's diff in <paramref name="delay"/> (on its grain's scheduler).</summary>
    public void Schedule(PresenceSequencer room, TimeSpan delay)
    {
        var due = _time.GetTimestamp() + (long)(delay.TotalSeconds * _time.TimestampFrequency);
        lock (_lock)
        {
            _waiting.Enqueue(room, due);
            if (due < _armedFor)
            {
                _armedFor = due;
                _timer.Change(delay, Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Dispose() => _timer.Dispose();

    private void OnTimer()
    {
        List<PresenceSequencer> due = [];
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            while (_waiting.TryPeek(out var room, out var at) && at <= now)
            {
                _waiting.Dequeue();
                due.Add(room);
            }

            _armedFor = long.MaxValue;
            if (_waiting.TryPeek(out _, out var next))
            {
                _armedFor = next;

                // At least a millisecond: a timer that fires a little before the timestamp says must not spin.
                var wait = TimeSpan.FromSeconds((double)(next - now) / _time.TimestampFrequency);
                _timer.Change(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, Timeout.InfiniteTimeSpan);
            }
        }

        foreach (var room in due)
        {
            try
            {
                room.FlushDue();
            }
            catch (Exception ex)
            {
                // On the timer's thread: an exception let through would end the process, and the other rooms' diffs.
                LogFlushNotQueued(ex);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "A room's presence diff could not be handed to its grain's scheduler.")]
    private partial void LogFlushNotQueued(Exception exception);
}
