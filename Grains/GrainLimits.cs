namespace Orleans.Rooms;

/// <summary>
/// The silos' fixed timings and limits, each named once (README "Settings", fixed on the silos). Front ends
/// carry their own settings (<c>Rooms:FrontEnd</c>); silos read none of the <c>Rooms</c> section.
/// </summary>
internal static class GrainLimits
{
    /// <summary>Calls one grain makes at once when it fans out (a purge, a relisting, a front end's rooms).</summary>
    public const int MaxParallelCalls = 64;

    /// <summary>How long a room grain that lists no front end stays listed in the directory (if still empty).</summary>
    public static readonly TimeSpan DelistEmptyRoomAfter = TimeSpan.FromSeconds(2);

    /// <summary>At most how often a relisting (each front end sends one) enters a room in the directory again.</summary>
    public static readonly TimeSpan RelistRoomAtMostEvery = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long after a silo was lost a grain activated anew counts as maybe having lost its memory: twice the
    /// longest renewal period, in which every live front end notices the loss and lists its rooms again.
    /// </summary>
    public static readonly TimeSpan HealWindow = FrontEnds.FrontEndRenewal.MaxPeriod * 2;

    /// <summary>
    /// How long a grain sends a delivery again while it was not handed over (<see cref="FrontEnds.FrontEndNotReachedException"/>,
    /// a rejection): as long as a front end retries its own (<c>Rooms:FrontEnd:ClusterRetryFor</c>, by default).
    /// </summary>
    public static readonly TimeSpan UndeliveredRetryFor = TimeSpan.FromSeconds(10);

    /// <summary>How often a front-end grain checks its front end's lease (a dead front end makes no calls).</summary>
    public static readonly TimeSpan LeaseCheckEvery = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often a silo that holds room or socket grains of some front end reads the registry to find those that
    /// are gone (<see cref="FrontEnds.GoneFrontEndSweeper"/>). Under <see cref="FrontEnds.FrontEndRenewal.MaxPeriod"/>,
    /// so that the read a renewal period after the first that missed a front end is the second after it: a front
    /// end is swept within its lease, one period and two more after it dies.
    /// </summary>
    public static readonly TimeSpan SweepGoneFrontEndsEvery = TimeSpan.FromSeconds(3);
}
