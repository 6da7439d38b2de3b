using Orleans.Rooms.Membership;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.WebFrontend.ExampleApp;

/// <summary>
/// Turns the room API's exceptions into docs/protocol.md's answers: bad input and the per-socket room limit
/// 400 (naming the parameter or setting),
/// not a socket request 400 (the seed's text), unknown socket 404, anything else 500; a failure of the cluster
/// healing (<see cref="ClusterErrors.IsRetryable"/>) says so: <c>"retryable":true</c> and <c>Retry-After</c>.
/// </summary>
internal sealed partial class RoomErrorsFilter(ILogger<RoomErrorsFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (NotASocketRequestException)
        {
            return Answers.SocketOnly;
        }
        catch (BadParameterException ex)
        {
            return Answers.Error(StatusCodes.Status400BadRequest, ex.Message);
        }
        catch (ArgumentException ex)
        {
            return Answers.Error(StatusCodes.Status400BadRequest, ex.Message);
        }
        catch (RoomLimitExceededException ex)
        {
            return Answers.Error(StatusCodes.Status400BadRequest, ex.Message);
        }
        catch (SocketNotFoundException ex)
        {
            return Answers.Error(StatusCodes.Status404NotFound, ex.Message);
        }
        catch (Presence.PresenceNotTrackedException ex)
        {
            return Answers.Error(StatusCodes.Status404NotFound, ex.Message);
        }
        catch (OperationCanceledException) when (context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (Exception ex)
        {
            // The message may name silos, grains or other sockets: the client gets words and an id, the log the rest.
            var id = context.HttpContext.TraceIdentifier;
            LogFailed(ex, context.HttpContext.Request.Path, id);
            if (ClusterErrors.IsRetryable(ex))
            {
                context.HttpContext.Response.Headers.RetryAfter = "1";
                return Answers.Retryable(StatusCodes.Status500InternalServerError, "The cluster is healing (a server was lost or is stopping) and did not complete this call in time; it changed nothing that a retry cannot repeat: try again.", id);
            }

            return Answers.Failure(StatusCodes.Status500InternalServerError, "The room service could not complete this call; try again.", id);
        }
    }

    [LoggerMessage(LogLevel.Error, "Room call of {Path} failed (error id {ErrorId}).")]
    private partial void LogFailed(Exception exception, string path, string errorId);
}
