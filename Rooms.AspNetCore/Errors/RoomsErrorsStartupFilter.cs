using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Orleans.Rooms.Errors;

/// <summary>
/// Puts one middleware around the app's whole pipeline (HTTP and socket requests alike) that answers the library's
/// refusals (<see cref="RoomsErrors"/>) with 4xx ProblemDetails, for an app that has no exception handler of its own.
/// </summary>
internal sealed class RoomsErrorsStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, inner) =>
        {
            try
            {
                await inner(context);
            }
            catch (Exception ex) when (RoomsErrors.StatusCodeOf(ex) is not null && !context.Response.HasStarted)
            {
                await RoomsExceptionHandler.TryWriteAsync(context, ex);
            }
        });
        next(app);
    };
}
