using System.Diagnostics;

namespace Orleans.Rooms.Telemetry;

/// <summary>
/// The span of one socket request (a virtual request) on <see cref="RoomsTelemetry.ActivitySourceName"/>: named
/// <c>socket {method} {route}</c>, tagged with the socket and the HTTP attributes, the parent of what the request
/// does (ASP.NET Core's request span, the grain calls, which Orleans' activity propagation carries to the silos).
/// </summary>
internal static class SocketRequestActivity
{
    public const string SocketIdTag = "rooms.socket.id";

    /// <summary>
    /// Starts the span when someone listens. Its parent is SignalR's span of the hub call that carries the request
    /// (itself a root), or none: never the socket's connection, under which every request of a connection would be
    /// one trace as long as the connection. Call from an async method: the current activity it clears stays cleared
    /// only in that method's flow.
    /// </summary>
    public static Activity? Start(string method, string path, string socketId)
    {
        if (!RoomsTelemetry.Source.HasListeners())
        {
            return null;
        }

        if (Activity.Current is { } current && current.Source.Name != RoomsTelemetry.SignalRActivitySourceName)
        {
            Activity.Current = null;
        }

        var activity = RoomsTelemetry.Source.StartActivity($"socket {method}", ActivityKind.Server);
        activity?.SetTag(SocketIdTag, socketId);
        activity?.SetTag("http.request.method", method);
        activity?.SetTag("url.path", path);
        return activity;
    }

    /// <summary>Names the span after its route (low cardinality, as OpenTelemetry's HTTP spans) and records the outcome.</summary>
    public static void Stop(Activity activity, string method, string? route, int statusCode)
    {
        if (route is not null)
        {
            activity.DisplayName = $"socket {method} {route}";
            activity.SetTag("http.route", route);
        }

        activity.SetTag("http.response.status_code", statusCode);
        if (statusCode >= 500)
        {
            activity.SetStatus(ActivityStatusCode.Error);
        }

        activity.Stop();
    }
}
