using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// The host's own <see cref="IHttpApplication{TContext}"/>: what the server calls for every HTTP request.
/// Running a virtual request through it makes it a real request, exactly as for HTTP: its
/// <c>HttpContext</c> comes from the host's <c>IHttpContextFactory</c> (so <c>IHttpContextAccessor</c>,
/// <c>FormOptions</c> and a per-request DI scope apply), with hosting's request logging, activity and
/// <c>http.server.request.duration</c>, then the whole middleware pipeline. It is captured by standing
/// in front of the server (<see cref="CapturingServer"/>), the way <c>TestServer</c> receives it.
/// </summary>
internal sealed class HostApplication
{
    private IRunner? _runner;

    public bool IsReady => _runner is not null;

    /// <summary>
    /// Runs one request: the pipeline, then <paramref name="complete"/> (the response is finished while the
    /// context is alive), then <paramref name="completed"/> (the response's on-completed callbacks), and
    /// disposes the context. An exception from the pipeline is rethrown once the context is disposed.
    /// </summary>
    public Task RunAsync(IFeatureCollection features, Func<Task> complete, Func<Task> completed)
        => (_runner ?? throw new InvalidOperationException("The web host has not started its server yet.")).RunAsync(features, complete, completed);

    private void Set<TContext>(IHttpApplication<TContext> application)
        where TContext : notnull
        => _runner = new Runner<TContext>(application);

    private interface IRunner
    {
        Task RunAsync(IFeatureCollection features, Func<Task> complete, Func<Task> completed);
    }

    private sealed class Runner<TContext>(IHttpApplication<TContext> application) : IRunner
        where TContext : notnull
    {
        public async Task RunAsync(IFeatureCollection features, Func<Task> complete, Func<Task> completed)
        {
            var context = application.CreateContext(features);
            Exception? error = null;
            try
            {
                await application.ProcessRequestAsync(context);
                await complete();
            }
            catch (Exception ex)
            {
                error = ex;
                throw;
            }
            finally
            {
                // As Kestrel does: on-completed callbacks, then the context (and its DI scope) is disposed.
                await completed();
                application.DisposeContext(context, error);
            }
        }
    }

    /// <summary>The host's server with the application it is started with captured on the way.</summary>
    internal sealed class CapturingServer(IServer inner, HostApplication capture) : IServer
    {
        public IFeatureCollection Features => inner.Features;

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull
        {
            capture.Set(application);
            return inner.StartAsync(application, cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);

        public void Dispose() => inner.Dispose();
    }
}
