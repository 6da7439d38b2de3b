namespace Orleans.Rooms.Hosting;

/// <summary>
/// How a silo on Redis clustering watches Orleans' membership table for a Redis that lost it
/// (<see cref="MembershipTableGuard"/>), bound from section <c>Orleans:MembershipTableGuard</c>.
/// </summary>
public sealed class MembershipTableGuardOptions : ISelfValidatingOptions
{
    /// <summary>The configuration section these settings are bound from: <c>Orleans:MembershipTableGuard</c>.</summary>
    public const string SectionName = "Orleans:MembershipTableGuard";

    /// <summary>Shortest <see cref="CheckPeriod"/>: each check is a read of the whole table from every silo.</summary>
    public static readonly TimeSpan MinCheckPeriod = TimeSpan.FromMilliseconds(10);

    /// <summary>Longest <see cref="CheckPeriod"/>: the cluster runs on a lost table (no joins, no leaves) for about this long.</summary>
    public static readonly TimeSpan MaxCheckPeriod = TimeSpan.FromMinutes(10);

    /// <summary>Longest <see cref="CheckTimeout"/>: a check that takes longer is stuck, not slow.</summary>
    public static readonly TimeSpan MaxCheckTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Whether the silo watches the table at all. Off, a Redis that comes back empty leaves the cluster on its
    /// last view until a silo starts and creates a new, empty table (README, "What survives what").
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Between two reads of the table. With the Redis client's reconnect (about 2 s) this is how long the table
    /// stays lost after Redis comes back empty; each read is one HGETALL of a few rows.
    /// </summary>
    public TimeSpan CheckPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// One check with its restore: a read, and when the table was lost one write per missing row and per version
    /// step (a view's version is in the tens). Past it the check counts as Redis not answering.
    /// </summary>
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public string? Validate()
    {
        if (CheckPeriod < MinCheckPeriod || CheckPeriod > MaxCheckPeriod)
        {
            return $"{SectionName}:{nameof(CheckPeriod)} must be from {MinCheckPeriod} to {MaxCheckPeriod} (was {CheckPeriod}).";
        }

        if (CheckTimeout <= TimeSpan.Zero || CheckTimeout > MaxCheckTimeout)
        {
            return $"{SectionName}:{nameof(CheckTimeout)} must be more than 0 and at most {MaxCheckTimeout} (was {CheckTimeout}).";
        }

        return null;
    }
}
