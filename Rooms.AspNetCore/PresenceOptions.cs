namespace Orleans.Rooms;

/// <summary>Settings of presence (docs/presence.md), bound from <c>Rooms:Presence</c> on each front end.</summary>
public sealed class PresenceOptions : ISelfValidatingOptions
{
    /// <summary>The configuration section these settings are bound from.</summary>
    public const string SectionName = "Rooms:Presence";

    /// <summary>
    /// How long a room's presence changes wait to be sent together as one <c>presence_diff</c>: a room of thousands
    /// that many join at once gets a few diffs, not one per join. Zero sends each change at once. At most 1 s.
    /// </summary>
    public TimeSpan DiffDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Largest meta a socket may track with, in bytes of compact UTF-8 JSON.</summary>
    public int MaxMetaBytes { get; set; } = 4096;

    /// <summary>Longest presence key, in UTF-16 characters.</summary>
    public int MaxKeyLength { get; set; } = 256;

    /// <inheritdoc />
    public string? Validate()
    {
        if (DiffDelay < TimeSpan.Zero || DiffDelay > TimeSpan.FromSeconds(1))
        {
            return $"Rooms:Presence:DiffDelay must be from 00:00:00 to 00:00:01 (was {DiffDelay}).";
        }

        if (MaxMetaBytes < 2)
        {
            return $"Rooms:Presence:MaxMetaBytes must be at least 2 (was {MaxMetaBytes}).";
        }

        if (MaxKeyLength < 1)
        {
            return $"Rooms:Presence:MaxKeyLength must be at least 1 (was {MaxKeyLength}).";
        }

        return null;
    }
}
