namespace Orleans.Rooms;

/// <summary>
/// How long, and with how much kept for it, a resumable socket outlives its connection (README, "Resuming
/// after a blip"). Bound from section <c>Rooms</c>: <c>Rooms:ResumeWindow</c>, <c>Rooms:ResumeBufferMaxEvents</c>,
/// <c>Rooms:ResumeBufferMaxBytes</c>.
/// </summary>
public sealed class ResumeOptions : ISelfValidatingOptions
{
    public const string SectionName = "Rooms";

    /// <summary>The longest window allowed: a held socket keeps its rooms and its buffer all along.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a resumable socket whose connection dropped keeps its id, its rooms and its events for the
    /// client to come back; past it the socket disconnects and leaves its rooms.
    /// </summary>
    public TimeSpan ResumeWindow { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Events a resumable socket keeps unacknowledged; one more closes it as too slow.</summary>
    public int ResumeBufferMaxEvents { get; set; } = 1000;

    /// <summary>Bytes of events (payload and name) a resumable socket keeps unacknowledged; more closes it as too slow.</summary>
    public long ResumeBufferMaxBytes { get; set; } = 1024 * 1024;

    /// <inheritdoc />
    public string? Validate()
    {
        if (ResumeWindow < TimeSpan.FromSeconds(1) || ResumeWindow > MaxWindow)
        {
            return $"Rooms:ResumeWindow must be from 00:00:01 to {MaxWindow} (was {ResumeWindow}).";
        }

        if (ResumeBufferMaxEvents < 1)
        {
            return $"Rooms:ResumeBufferMaxEvents must be at least 1 (was {ResumeBufferMaxEvents}).";
        }

        if (ResumeBufferMaxBytes < 1024)
        {
            return $"Rooms:ResumeBufferMaxBytes must be at least 1024 (was {ResumeBufferMaxBytes}).";
        }

        return null;
    }
}
