using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// Runs a socket's HTTP-shaped request through the application's real pipeline: a synthetic
/// <see cref="HttpContext"/> with in-memory request and response features, its own DI scope, the
/// socket's user and connection, and <see cref="ISocketRequestFeature"/> marking it as a socket request.
/// </summary>
internal sealed partial class VirtualRequestBridge(ApplicationPipeline pipeline, IServiceScopeFactory scopes, ILogger<VirtualRequestBridge> logger, RoomsMetrics metrics, TimeProvider time)
{
    public async Task<SocketResponse> InvokeAsync(HubCallerContext caller, JsonElement envelope)
    {
        if (!VirtualRequest.TryParse(envelope, out var request, out var error))
        {
            return SocketResponse.Error(StatusCodes.Status400BadRequest, error!);
        }

        if (pipeline.Application is not { } application)
        {
            return SocketResponse.Error(StatusCodes.Status503ServiceUnavailable, "The application is not ready to serve requests yet.");
        }

        var socketHttp = caller.GetHttpContext();
        var requestFeature = new HttpRequestFeature
        {
            Method = request!.Method,
            Scheme = socketHttp?.Request.Scheme ?? "http",
            Protocol = "HTTP/1.1",
            PathBase = string.Empty,
            Path = PathString.FromUriComponent(request.Path).Value ?? "/",
            QueryString = request.Query,
            RawTarget = request.Path + request.Query,
            Body = request.Body is null ? Stream.Null : new MemoryStream(request.Body, writable: false),
        };
        foreach (var (name, value) in request.Headers)
        {
            requestFeature.Headers[name] = value;
        }

        requestFeature.Headers.Host = socketHttp?.Request.Host.Value ?? "localhost";
        if (request.Body is not null)
        {
            requestFeature.Headers.ContentType = request.ContentType;
            requestFeature.Headers.ContentLength = request.Body.Length;
        }

        var response = new VirtualResponseFeature();
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(requestFeature);
        features.Set<IHttpResponseFeature>(response);
        features.Set<IHttpResponseBodyFeature>(response);
        features.Set<IHttpRequestBodyDetectionFeature>(request.Body is null ? BodyDetection.NoBody : BodyDetection.HasBody);
        features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature { RequestAborted = caller.ConnectionAborted });
        features.Set<ISocketRequestFeature>(new SocketRequestFeature(caller.ConnectionId, request.JsonBody));
        if (socketHttp?.Features.Get<IHttpConnectionFeature>() is { } connection)
        {
            features.Set(connection);
        }

        await using var scope = scopes.CreateAsyncScope();
        features.Set<IServiceProvidersFeature>(new ServiceProvidersFeature { RequestServices = scope.ServiceProvider });
        var context = new DefaultHttpContext(features) { User = caller.User ?? new ClaimsPrincipal(new ClaimsIdentity()) };

        var started = time.GetTimestamp();

        // What the app logs while it serves the request says which socket asked.
        using var logScope = logger.BeginScope("SocketId:{SocketId}", caller.ConnectionId);
        try
        {
            await application(context);
            await response.CompleteAsync();
        }
        catch (Exception ex) when (!caller.ConnectionAborted.IsCancellationRequested)
        {
            LogRequestFailed(ex, request.Method, request.Path, caller.ConnectionId);
            response.Reset(StatusCodes.Status500InternalServerError);
            return SocketResponse.Error(StatusCodes.Status500InternalServerError, "The request failed on the server.");
        }
        finally
        {
            await response.FireOnCompletedAsync();
            metrics.VirtualRequest(request.Method, (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText, response.StatusCode, time.GetElapsedTime(started));
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers)
        {
            headers[name.ToLowerInvariant()] = values.ToString();
        }

        return new SocketResponse(response.StatusCode, headers, SocketResponse.ParseBody(response.GetBody(), response.Headers.ContentType));
    }

    /// <summary>Tells body binding whether to read a body at all (minimal APIs skip it when this is missing).</summary>
    private sealed class BodyDetection(bool canHaveBody) : IHttpRequestBodyDetectionFeature
    {
        public static readonly BodyDetection HasBody = new(true);
        public static readonly BodyDetection NoBody = new(false);

        public bool CanHaveBody { get; } = canHaveBody;
    }

    [LoggerMessage(LogLevel.Error, "Virtual request {Method} {Path} from socket {SocketId} failed.")]
    private partial void LogRequestFailed(Exception exception, string method, string path, string socketId);
}
