using Orleans.Rooms.Membership;

namespace Orleans.Rooms.FrontEnds;

/// <summary>How often front ends renew at the slowest; a grain that lost its memory hears from each front end within this.</summary>
internal static class FrontEndRenewal
{
    public static readonly TimeSpan MaxPeriod = TimeSpan.FromSeconds(5);
}
