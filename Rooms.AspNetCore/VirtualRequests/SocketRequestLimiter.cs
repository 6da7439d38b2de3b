using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// <see cref="SocketLimitsOptions.RequestsPerSecondPerSocket"/>: a token bucket per socket id (the framework's
/// partitioned rate limiter, which drops a socket's bucket once it is idle and full), refilled ten times a
/// second, holding at most one second's worth.
/// </summary>
internal sealed class SocketRequestLimiter : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    private readonly SocketLimitsOptions _options;
    private readonly PartitionedRateLimiter<string> _limiter;

    public SocketRequestLimiter(IOptions<SocketLimitsOptions> options)
    {
        _options = options.Value;
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = _options.RequestsPerSecondPerSocket,
            TokensPerPeriod = Math.Max(1, _options.RequestsPerSecondPerSocket / 10),
            ReplenishmentPeriod = Period,
            QueueLimit = 0,
            AutoReplenishment = true, // the helper below turns it off: the partitioned limiter refills every bucket from its one timer
        };

        _limiter = PartitionedRateLimiter.Create<string, string>(socketId => RateLimitPartition.GetTokenBucketLimiter(socketId, _ => bucket));
    }

    public int PerSecond => _options.RequestsPerSecondPerSocket;

    /// <summary>True when the socket may send one more request now.</summary>
    public bool TryAcquire(string socketId)
    {
        using var lease = _limiter.AttemptAcquire(socketId);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}
