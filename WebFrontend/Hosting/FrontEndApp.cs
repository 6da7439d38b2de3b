using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Rooms.Hosting;
using Orleans.Rooms.WebFrontend.ExampleApp;

namespace Orleans.Rooms.WebFrontend.Hosting;

/// <summary>
/// Builds the web front end: the socket hub, the example app, health endpoints, and the cluster part that
/// section <c>Orleans</c> picks: a silo in the same process (embedded, the default) or an Orleans client of
/// a cluster of stand-alone silos.
/// </summary>
public static class FrontEndApp
{
    public const string DefaultUrl = "http://127.0.0.1:5000";

    public const string HealthPath = "/healthz";

    public const string ReadyPath = "/readyz";

    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var cluster = ClusterHostingOptions.Read(builder.Configuration);
        if (cluster.Role == ClusterRole.Client)
        {
            builder.UseRoomsClient();
        }
        else
        {
            builder.UseRoomsSilo();

            // The silo dies with the front end: nothing kept in it would outlive the sockets.
            if (builder.Configuration[$"{FrontEndOptions.SectionName}:{nameof(FrontEndOptions.KeepSocketsInCluster)}"] is null)
            {
                builder.Configuration[$"{FrontEndOptions.SectionName}:{nameof(FrontEndOptions.KeepSocketsInCluster)}"] = "false";
            }
        }

        // A broadcast is one write per member socket, and each crossed two thread-pool hops before its send:
        // SignalR's transport loop, then Kestrel's I/O queue (whose pipe lock the two threads also fought over).
        // Inline scheduling lets the transport loop send itself. What it costs: Kestrel's own continuations run
        // on the socket thread, including a plain HTTP request until its first await; nothing here blocks
        // there, and hub methods still run on the thread pool behind SignalR's own pipe.
        builder.Services.Configure<SocketTransportOptions>(o => o.UnsafePreferInlineScheduling = true);

        builder.Services.AddRooms();
        builder.Services.AddExampleApp();
        builder.Services.AddFrontEndMetrics();
        builder.AddFrontEndTracing();

        // An unhandled exception answers a ProblemDetails 500 with a traceId, over HTTP and over a socket alike;
        // its message stays in the log.
        builder.Services.AddProblemDetails();

        var app = builder.Build();
        app.UseExceptionHandler();
        app.MapHealthChecks(HealthPath, new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(RoomsServiceCollectionExtensions.ReadyTag),

            // Degraded (still warming up) is not ready either.
            ResultStatusCodes = { [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable },
        });
        app.MapRooms("/sockets");

        // Sails' own wire (README, "Sails' own wire"): /socket.io, and /engine.io, where sails.io.js 1.2.1 over
        // socket.io-client 4 connects when it is not given a path by hand.
        app.MapRoomsSocketIo("/socket.io");
        app.MapRoomsSocketIo("/engine.io");
        app.MapRoomsScript();
        app.MapFrontEndMetrics();
        app.MapExampleApp();
        return app;
    }
}
