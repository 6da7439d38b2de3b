using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Rooms.WebFrontend.Hosting;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// The real web front end (embedded shape: Kestrel on 127.0.0.1 plus a co-hosted silo) started in the
/// test process. Several of them form one cluster when later ones name the first as primary.
/// </summary>
public sealed class FrontEndServer : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key";

    private readonly WebApplication _app;

    private FrontEndServer(WebApplication app, int siloPort)
    {
        _app = app;
        SiloPort = siloPort;
    }

    public Uri BaseAddress => new(_app.Urls.First());

    public int SiloPort { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<FrontEndServer> StartAsync(string clusterId, FrontEndServer? primary = null, string? adminKey = AdminKey, Action<WebApplicationBuilder>? configure = null, Action<WebApplication>? map = null)
    {
        // Free ports are picked before they are bound, so a parallel test may take one in between: retry
        // (a few times, bounded) with new ports when binding fails.
        for (var attempt = 1; ; attempt++)
        {
            var siloPort = FreePort();
            var settings = new Dictionary<string, string?>
            {
                ["Orleans:SiloPort"] = siloPort.ToString(),
                ["Orleans:GatewayPort"] = FreePort().ToString(),
                ["Orleans:PrimarySiloPort"] = primary?.SiloPort.ToString(),
                ["Orleans:ClusterId"] = clusterId,
                ["Rooms:AdminKey"] = adminKey,
            };
            var app = FrontEndApp.Create(["--urls", "http://127.0.0.1:0"], builder =>
            {
                builder.Configuration.AddInMemoryCollection(settings);
                builder.Logging.ClearProviders();
                builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
                configure?.Invoke(builder);
            });
            map?.Invoke(app);
            try
            {
                await app.StartAsync();
                return new FrontEndServer(app, siloPort);
            }
            catch (Exception ex) when (attempt < 3 && IsAddressInUse(ex))
            {
                await app.DisposeAsync();
            }
        }
    }

    private static bool IsAddressInUse(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A new socket connected to this front end over WebSockets (negotiated, so its id is known).</summary>
    public Task<TestSocket> ConnectAsync() => TestSocket.ConnectAsync(BaseAddress);

    /// <summary>A plain HTTP client for this front end.</summary>
    public HttpClient Http() => new() { BaseAddress = BaseAddress, Timeout = TestSocket.Timeout };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
