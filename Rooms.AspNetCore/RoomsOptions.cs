namespace Orleans.Rooms;

/// <summary>
/// The room service's settings, bound from section <c>Rooms</c>: input limits, the resume window of resumable
/// sockets (docs/protocol.md, "Resuming"), and the key of the app's admin routes. Its subsections have their
/// own types: <see cref="FrontEndOptions"/> (<c>Rooms:FrontEnd</c>), <see cref="SocketLimitsOptions"/>
/// (<c>Rooms:Limits</c>), <see cref="SocketOriginOptions"/> (<c>Rooms:Origins</c>), <c>WarmUpOptions</c> (<c>Rooms:WarmUp</c>).
/// </summary>
public sealed class RoomsOptions : ISelfValidatingOptions
{
    /// <summary>The configuration section these settings are bound from: <c>Rooms</c>.</summary>
    public const string SectionName = "Rooms";

    /// <summary>The longest resume window allowed: a held socket keeps its rooms and its buffer all along.</summary>
    public static readonly TimeSpan MaxResumeWindow = TimeSpan.FromMinutes(10);

    /// <summary>Longest allowed room name, in UTF-16 characters.</summary>
    public int MaxRoomNameLength { get; set; } = 256;

    /// <summary>Longest allowed event name, in UTF-16 characters.</summary>
    public int MaxEventNameLength { get; set; } = 128;

    /// <summary>Most rooms one socket may be in, its own-id room not counted.</summary>
    public int MaxRoomsPerSocket { get; set; } = 1000;

    /// <summary>
    /// How long a resumable socket whose connection dropped keeps its id, its rooms and its events for the
    /// client to come back; past it the socket disconnects and leaves its rooms.
    /// </summary>
    public TimeSpan ResumeWindow { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Events a resumable socket keeps unacknowledged; one more closes it as too slow.</summary>
    public int ResumeBufferMaxEvents { get; set; } = 1000;

    /// <summary>Bytes of events (payload and name) a resumable socket keeps unacknowledged; more closes it as too slow.</summary>
    public long ResumeBufferMaxBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The key the app's admin routes require in header <c>x-admin-key</c> (the example app's kick and room-wide
    /// routes); with none set they always answer 403. The library itself never reads it.
    /// </summary>
    public string? AdminKey { get; set; }

    /// <inheritdoc />
    public string? Validate()
    {
        if (MaxRoomNameLength < 1)
        {
            return $"Rooms:MaxRoomNameLength must be at least 1 (was {MaxRoomNameLength}).";
        }

        if (MaxEventNameLength < 1)
        {
            return $"Rooms:MaxEventNameLength must be at least 1 (was {MaxEventNameLength}).";
        }

        if (MaxRoomsPerSocket < 1)
        {
            return $"Rooms:MaxRoomsPerSocket must be at least 1 (was {MaxRoomsPerSocket}).";
        }

        if (ResumeWindow < TimeSpan.FromSeconds(1) || ResumeWindow > MaxResumeWindow)
        {
            return $"Rooms:ResumeWindow must be from 00:00:01 to {MaxResumeWindow} (was {ResumeWindow}).";
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
