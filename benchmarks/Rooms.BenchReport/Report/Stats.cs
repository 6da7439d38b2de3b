namespace Orleans.Rooms.BenchReport.Report;

internal static class Stats
{
    /// <summary>The median of the values present (the mean of the middle two for an even count); null when none is.</summary>
    public static double? Median(IEnumerable<double?> values)
    {
        var sorted = values.OfType<double>().Where(double.IsFinite).Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>ours / peer; null when either is missing, the peer's is zero, or either is negative (an RSS delta
    /// can be, when the runtime returned memory meanwhile: no ratio of such numbers means anything).</summary>
    public static double? Ratio(double? ours, double? peer)
        => ours is { } o && peer is { } p && p > 0 && o >= 0 ? o / p : null;
}
