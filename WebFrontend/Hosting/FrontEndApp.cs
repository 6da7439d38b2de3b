using System.Net;
using Orleans.Rooms.WebFrontend.ExampleApp;

namespace Orleans.Rooms.WebFrontend.Hosting;

/// <summary>Builds the web front end: the socket hub, the example app and (embedded shape) a silo in the same process.</summary>
public static class FrontEndApp
{
    public const string DefaultUrl = "http://127.0.0.1:5000";

    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var silo = builder.Configuration.GetSection(EmbeddedSiloOptions.SectionName).Get<EmbeddedSiloOptions>() ?? new EmbeddedSiloOptions();
        builder.UseOrleans(siloBuilder => siloBuilder
            .UseLocalhostClustering(
                silo.SiloPort,
                silo.GatewayPort,
                silo.PrimarySiloPort is { } primary ? new IPEndPoint(IPAddress.Loopback, primary) : null,
                silo.ServiceId,
                silo.ClusterId)
            .AddRooms());

        builder.Services.AddRooms();
        builder.Services.AddExampleApp();

        var app = builder.Build();
        app.MapRooms("/sockets");
        app.MapExampleApp();
        return app;
    }
}
