using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// The application's own request pipeline, captured as it is built: a startup filter puts a pass-through
/// middleware in front of everything, and the delegate it is handed is the rest of the app (routing,
/// endpoints, filters, authorization), exactly what plain HTTP requests go through.
/// </summary>
internal sealed class ApplicationPipeline
{
    public RequestDelegate? Application { get; private set; }

    internal sealed class CaptureFilter(ApplicationPipeline pipeline) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(rest =>
            {
                pipeline.Application = rest;
                return rest;
            });
            next(app);
        };
    }
}
