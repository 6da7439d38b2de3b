using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Abstractions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// The host's own <see cref="IHttpApplication{TContext}"/>: what the server calls for every HTTP request.
/// Running a virtual request through it makes it a real request, exactly as for HTTP: its
/// <c>HttpContext</c> comes from the host's <c>IHttpContextFactory</c> (so <c>IHttpContextAccessor</c>,
/// <c>FormOptions</c> and a per-request DI scope apply), with hosting's request logging, activity and
/// <c>http.server.request.duration</c>, then the whole middleware pipeline. It is captured by standing
/// in front of the server (<see cref="CapturingServer"/>), the way <c>TestServer</c> receives it.
/// A request's features, and the host's context made for them, are pooled and reused as Kestrel reuses a
/// connection's (<see cref="Rent"/>, <see cref="Return"/>): a socket request allocates little of its own.
/// </summary>
internal sealed class HostApplication(IOptions<SocketLimitsOptions> limits, TimeProvider time)
{
    private IRunner? _runner;

    public bool IsReady => _runner is not null;

    /// <summary>Features for one request, empty; given back with <see cref="Return"/> once the response is read.</summary>
    public VirtualRequestFeatures Rent() => Current.Rent();

    /// <summary>Gives back a request's features: emptied, and kept for another request.</summary>
    public void Return(VirtualRequestFeatures features) => Current.Return(features);

    /// <summary>
    /// Runs one request: the pipeline, then the response is completed (while the context is alive), then its
    /// on-completed callbacks run, and the context is disposed. An exception from the pipeline is rethrown once the
    /// context is disposed.
    /// </summary>
    public Task RunAsync(VirtualRequestFeatures features) => Current.RunAsync(features);

    private IRunner Current => _runner ?? throw new InvalidOperationException("The web host has not started its server yet.");

    private void Set<TContext>(IHttpApplication<TContext> application)
        where TContext : notnull
        => _runner = new Runner<TContext>(application, limits.Value.MaxResponseBytes, time);

    private interface IRunner
    {
        VirtualRequestFeatures Rent();

        void Return(VirtualRequestFeatures features);

        Task RunAsync(VirtualRequestFeatures features);
    }

    private sealed class Runner<TContext>(IHttpApplication<TContext> application, int maxResponseBytes, TimeProvider time) : IRunner
        where TContext : notnull
    {
        // Enough for the requests in flight at once on a busy server; beyond it, features are made and dropped.
        private readonly DefaultObjectPool<Features> _pool = new(new FeaturesPolicy(maxResponseBytes, time), Math.Max(64, Environment.ProcessorCount * 32));

        public VirtualRequestFeatures Rent() => _pool.Get();

        public void Return(VirtualRequestFeatures features) => _pool.Return((Features)features);

        public async Task RunAsync(VirtualRequestFeatures features)
        {
            var context = application.CreateContext(features);
            Exception? error = null;
            try
            {
                await application.ProcessRequestAsync(context);
                await features.Response.CompleteAsync();
            }
            catch (Exception ex)
            {
                error = ex;
                throw;
            }
            finally
            {
                // As Kestrel does: on-completed callbacks, then the context (and its DI scope) is disposed.
                await features.Response.FireOnCompletedAsync();
                application.DisposeContext(context, error);
            }
        }

        /// <summary>Features that also keep the host's context for the next request (hosting reuses it, and its <c>HttpContext</c>).</summary>
        private sealed class Features(int maxResponseBytes, TimeProvider time) : VirtualRequestFeatures(maxResponseBytes, time), IHostContextContainer<TContext>
        {
            public TContext? HostContext { get; set; }
        }

        private sealed class FeaturesPolicy(int maxResponseBytes, TimeProvider time) : IPooledObjectPolicy<Features>
        {
            public Features Create() => new(maxResponseBytes, time);

            public bool Return(Features features)
            {
                features.Reset();
                return true;
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
