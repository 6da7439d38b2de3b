namespace Orleans.Rooms;

/// <summary>
/// The cluster's heal window as this silo sees it (docs/design.md, "Healing"): open for <c>GrainLimits.HealWindow</c>
/// (10 s) after this silo noticed a silo leave, stop or die. A grain that activates meanwhile may be one whose memory
/// went with its silo, so it does not answer as if it were empty. A silo reports it at <c>GET /cluster</c>, so that an
/// operator (and a test) can see when the cluster has healed instead of waiting a guessed while.
/// </summary>
public interface IHealWindow
{
    /// <summary>How much longer the window this silo sees stays open; null when none is. Asking looks at the membership now.</summary>
    TimeSpan? Remaining { get; }
}
