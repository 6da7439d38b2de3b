using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Orleans.Rooms.Errors;

/// <summary>
/// The library's refusals (<see cref="RoomsErrors"/>) as 4xx ProblemDetails: run by the app's exception handler
/// (<c>UseExceptionHandler</c>) where it has one, and by <see cref="RoomsErrorsStartupFilter"/>'s middleware where it
/// has none.
/// </summary>
internal sealed class RoomsExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        => await TryWriteAsync(httpContext, exception);

    public static async Task<bool> TryWriteAsync(HttpContext httpContext, Exception exception)
    {
        if (RoomsErrors.StatusCodeOf(exception) is not { } status || httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.Clear();
        var title = status == StatusCodes.Status404NotFound ? "Unknown socket" : "Bad request";
        await Results.Problem(detail: exception.Message, statusCode: status, title: title).ExecuteAsync(httpContext);
        return true;
    }
}
