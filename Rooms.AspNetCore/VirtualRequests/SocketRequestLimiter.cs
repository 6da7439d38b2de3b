using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// <see cref="SocketLimitsOptions.RequestsPerSecondPerSocket"/>: a token bucket per socket id (the framework's
/// partitioned rate limiter, which drops a socket's bucket once it is idle and full), refilled ten times a
/// second, holding at most one second's worth.
/// </summary>
internal sealed class SocketRequestLimiter(IOptions<SocketLimitsOptions> options) : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(socketId =>
        RateLimitPartition.GetTokenBucketLimiter(socketId, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Value.RequestsPerSecondPerSocket,
            TokensPerPeriod = Math.Max(1, options.Value.RequestsPerSecondPerSocket / 10),
            ReplenishmentPeriod = Period,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public int PerSecond => options.Value.RequestsPerSecondPerSocket;

    /// <summary>True when the socket may send one more request now.</summary>
    public bool TryAcquire(string socketId)
    {
        using var lease = _limiter.AttemptAcquire(socketId);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}
