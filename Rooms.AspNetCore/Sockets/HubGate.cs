using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// Stands in front of every hub endpoint (negotiate and connect, whatever the transport): refuses a page
/// from a foreign origin (403), more open hub requests from one IP address than
/// <see cref="SocketLimitsOptions.MaxConnectionsPerIp"/> (429), the hub asked for over a socket (400), and any
/// new socket once the front end has begun to stop (503: its sockets are moving to other front ends, and a new
/// one here would be cut when the server stops; the client tries again, through the balancer, elsewhere).
/// </summary>
internal sealed partial class HubGate(IOptions<SocketOriginOptions> origins, IOptions<SocketLimitsOptions> limits, IHostApplicationLifetime host, ILogger<HubGate> logger) : IDisposable
{
    private readonly SocketOriginOptions _origins = origins.Value;
    private readonly int _perIp = limits.Value.MaxConnectionsPerIp;

    // One concurrency limiter per address, made on first use and dropped by the framework once idle.
    private readonly PartitionedRateLimiter<string> _connections = PartitionedRateLimiter.Create<string, string>(ip =>
        RateLimitPartition.GetConcurrencyLimiter(ip, _ => new ConcurrencyLimiterOptions { PermitLimit = limits.Value.MaxConnectionsPerIp, QueueLimit = 0 }));

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.IsSocketRequest())
        {
            await Refuse(context, StatusCodes.Status400BadRequest, "The socket endpoint cannot be requested over a socket.");
            return;
        }

        if (host.ApplicationStopping.IsCancellationRequested)
        {
            context.Response.Headers.RetryAfter = "0";
            await Refuse(context, StatusCodes.Status503ServiceUnavailable, "This front end is stopping: connect again (through the balancer, another front end takes the socket over).");
            return;
        }

        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !IsAllowed(origin, context.Request))
        {
            LogOriginRefused(origin, context.Request.Path);
            await Refuse(context, StatusCodes.Status403Forbidden, $"Origin '{Clip(origin)}' may not open a socket here (Rooms:Origins:Allowed).");
            return;
        }

        var ip = context.Connection.RemoteIpAddress?.ToString() ?? string.Empty;
        using var lease = _connections.AttemptAcquire(ip);
        if (!lease.IsAcquired)
        {
            LogTooManyConnections(ip, _perIp);
            await Refuse(context, StatusCodes.Status429TooManyRequests, $"Too many open connections from this address: at most {_perIp} (Rooms:Limits:MaxConnectionsPerIp).");
            return;
        }

        await next(context);
    }

    public void Dispose() => _connections.Dispose();

    private bool IsAllowed(string origin, HttpRequest request)
    {
        if (string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var allowed in _origins.Allowed)
        {
            if (allowed == "*" || string.Equals(allowed, origin, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return _origins.AllowLoopback
            && Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && uri.Scheme is "http" or "https"
            && (uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var address) && IPAddress.IsLoopback(address)));
    }

    private static Task Refuse(HttpContext context, int statusCode, string message)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message);
    }

    private static string Clip(string value) => value.Length <= 100 ? value : value[..100] + "…";

    [LoggerMessage(1, LogLevel.Warning, "Refused a socket from origin {Origin} ({Path}): not in Rooms:Origins:Allowed.")]
    private partial void LogOriginRefused(string origin, string path);

    [LoggerMessage(2, LogLevel.Warning, "Refused a socket from {Address}: it has {Limit} open (Rooms:Limits:MaxConnectionsPerIp).")]
    private partial void LogTooManyConnections(string address, int limit);
}
