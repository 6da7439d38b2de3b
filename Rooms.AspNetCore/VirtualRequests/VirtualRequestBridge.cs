using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Authentication;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// Runs a socket's HTTP-shaped request as a real request of the host (<see cref="HostApplication"/>): the
/// request and response features are in memory, the connection's features are copies of the socket's,
/// the user is the socket's (and so is each authentication scheme's result: <see cref="SocketAuthenticationService"/>),
/// and <see cref="ISocketRequestFeature"/> marks it as a socket request. Whatever
/// happens, the socket gets an envelope: malformed or over a limit 4xx, a failure 5xx with an id that the
/// log has the details under, never a hub error.
/// </summary>
internal sealed partial class VirtualRequestBridge(
    HostApplication host,
    SocketRequestLimiter limiter,
    IOptions<SocketLimitsOptions> limits,
    TimeProvider time,
    RoomsMetrics metrics,
    ISocketOutbox outbox,
    ILogger<VirtualRequestBridge> logger)
{
    // Defined once: the scope's format is parsed here, not looked up for each request.
    private static readonly Func<ILogger, string, IDisposable?> SocketScope = LoggerMessage.DefineScope<string>("SocketId:{SocketId}");

    private readonly SocketLimitsOptions _limits = limits.Value;

    public Task<SocketResponse> InvokeAsync(HubCallerContext caller, JsonElement envelope)
    {
        // The socket this connection serves: its own, unless the connection resumed another socket.
        var socketId = LocalSockets.SocketIdOf(caller);
        var reply = new SocketReply(socketId, outbox);
        _ = ReplyAsync(caller, socketId, envelope, reply);
        return reply.Task;
    }

    /// <summary>Answers through <paramref name="reply"/>, which the request's code finds in <see cref="SocketReply.Current"/>.</summary>
    private async Task ReplyAsync(HubCallerContext caller, string socketId, JsonElement envelope, SocketReply reply)
    {
        SocketReply.Current = reply;
        SocketResponse response;
        try
        {
            response = await AnswerAsync(caller, socketId, envelope);
        }
        catch (Exception ex)
        {
            reply.Fail(ex);
            return;
        }

        reply.Answer(response);
    }

    // ValueTasks within: a request answered without waiting (most joins and leaves) allocates no task of its own.
    private async ValueTask<SocketResponse> AnswerAsync(HubCallerContext caller, string socketId, JsonElement envelope)
    {
        if (!limiter.TryAcquire(socketId))
        {
            return SocketResponse.Error(StatusCodes.Status429TooManyRequests, $"Too many requests from this socket: at most {limiter.PerSecond} a second (Rooms:Limits:RequestsPerSecondPerSocket). Wait a moment and try again.");
        }

        var identifier = new HttpRequestIdentifierFeature();
        VirtualRequest? request = null;
        try
        {
            if (!VirtualRequest.TryParse(envelope, out request, out var error))
            {
                return SocketResponse.Error(StatusCodes.Status400BadRequest, error!);
            }

            if (!host.IsReady)
            {
                return SocketResponse.Error(StatusCodes.Status503ServiceUnavailable, "The application is not ready to serve requests yet.");
            }

            return await RunAsync(caller, socketId, request!, identifier);
        }
        catch (Exception ex) when (!caller.ConnectionAborted.IsCancellationRequested)
        {
            // The exception's message may name silos, grains or other sockets: it goes to the log only.
            LogRequestFailed(ex, request?.Method ?? "-", request?.Path ?? "-", socketId, identifier.TraceIdentifier);
            return SocketResponse.Failure(StatusCodes.Status500InternalServerError, "The request failed on the server.", identifier.TraceIdentifier);
        }
    }

    private async ValueTask<SocketResponse> RunAsync(HubCallerContext caller, string socketId, VirtualRequest request, HttpRequestIdentifierFeature identifier)
    {
        var socketHttp = caller.GetHttpContext();
        var features = host.Rent();
        try
        {
            features.Start(
                request,
                socketHttp?.Request.Scheme ?? "http",
                socketHttp?.Request.Host.Value ?? "localhost",
                caller.User ?? new ClaimsPrincipal(new ClaimsIdentity()),
                _limits.RequestTimeout,
                caller.ConnectionAborted,
                identifier,
                new SocketRequestFeature(socketId, request.JsonBody, ConnectAuthentication.Of(socketHttp)),
                socketHttp?.Features.Get<IHttpConnectionFeature>());
            return await RunAsync(socketId, request, identifier, features);
        }
        finally
        {
            host.Return(features);
        }
    }

    private async ValueTask<SocketResponse> RunAsync(string socketId, VirtualRequest request, HttpRequestIdentifierFeature identifier, VirtualRequestFeatures features)
    {
        var response = features.Response;
        var started = time.GetTimestamp();
        var failed = true;
        var activity = SocketRequestActivity.Start(request.Method, request.Path, socketId);

        // What the app logs while it serves the request says which socket asked.
        using (SocketScope(logger, socketId))
        {
            try
            {
                await host.RunAsync(features);
                failed = false;
            }
            catch (Exception) when (response.TooLarge || features.TimedOut)
            {
                // Answered below, whether the app let the exception through or an exception handler answered it.
                failed = false;
            }
            finally
            {
                var status = failed || response.TooLarge ? StatusCodes.Status500InternalServerError
                    : features.TimedOut ? StatusCodes.Status504GatewayTimeout
                    : response.StatusCode;
                var route = (features.Get<IEndpointFeature>()?.Endpoint as RouteEndpoint)?.RoutePattern.RawText;
                metrics.VirtualRequest(request.Method, route, status, time.GetElapsedTime(started));
                if (activity is not null)
                {
                    SocketRequestActivity.Stop(activity, request.Method, route, status);
                }
            }
        }

        if (response.TooLarge)
        {
            LogResponseTooLarge(request.Method, request.Path, socketId, _limits.MaxResponseBytes, identifier.TraceIdentifier);
            return SocketResponse.Failure(StatusCodes.Status500InternalServerError, $"The response is over {_limits.MaxResponseBytes} bytes (Rooms:Limits:MaxResponseBytes), more than a socket request may answer; ask for less.", identifier.TraceIdentifier);
        }

        if (features.TimedOut)
        {
            LogTimedOut(request.Method, request.Path, socketId, _limits.RequestTimeout, identifier.TraceIdentifier);
            return SocketResponse.Failure(StatusCodes.Status504GatewayTimeout, $"The request took longer than {_limits.RequestTimeout} (Rooms:Limits:RequestTimeout) and was cancelled.", identifier.TraceIdentifier);
        }

        return new SocketResponse(response.StatusCode, SocketResponse.HeadersOf(response.Headers), SocketResponse.ParseBody(response.GetBody(), response.Headers.ContentType));
    }

    [LoggerMessage(1, LogLevel.Error, "Virtual request {Method} {Path} from socket {SocketId} failed (error id {ErrorId}).")]
    private partial void LogRequestFailed(Exception exception, string method, string path, string socketId, string errorId);

    [LoggerMessage(2, LogLevel.Warning, "Virtual request {Method} {Path} from socket {SocketId} wrote more than {MaxBytes} bytes (Rooms:Limits:MaxResponseBytes) (error id {ErrorId}).")]
    private partial void LogResponseTooLarge(string method, string path, string socketId, int maxBytes, string errorId);

    [LoggerMessage(3, LogLevel.Warning, "Virtual request {Method} {Path} from socket {SocketId} took longer than {Timeout} (Rooms:Limits:RequestTimeout) (error id {ErrorId}).")]
    private partial void LogTimedOut(string method, string path, string socketId, TimeSpan timeout, string errorId);
}
