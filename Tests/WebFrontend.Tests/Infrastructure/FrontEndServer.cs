using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Rooms.Lease;
using Orleans.Rooms.WarmUp;
using Orleans.Rooms.WebFrontend.Hosting;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// The real web front end started in the test process, Kestrel on 127.0.0.1: embedded (with a co-hosted
/// silo), or an Orleans client of given silo gateways (another front end's embedded silo, or a test cluster).
/// </summary>
public sealed class FrontEndServer : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key";

    private readonly WebApplication _app;

    private FrontEndServer(WebApplication app, int gatewayPort)
    {
        _app = app;
        GatewayPort = gatewayPort;
    }

    public Uri BaseAddress => new(_app.Urls.First());

    /// <summary>The gateway port of the embedded silo (0 for a client front end).</summary>
    public int GatewayPort { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>This front end's id: the key of its front-end grain, and what room and socket grains list.</summary>
    public string Id => Services.GetRequiredService<FrontEndIdentity>().Id;

    /// <summary>A front end with its own embedded silo, or (with <paramref name="gateways"/>) a client of those silos.</summary>
    public static async Task<FrontEndServer> StartAsync(string clusterId, IReadOnlyList<int>? gateways = null, string? adminKey = AdminKey, Action<WebApplicationBuilder>? configure = null, Action<WebApplication>? map = null, IDictionary<string, string?>? settings = null, bool waitForWarmUp = true)
    {
        // Free ports are picked before they are bound, so a parallel test may take one in between: retry
        // (a few times, bounded) with new ports when binding fails.
        for (var attempt = 1; ; attempt++)
        {
            // Both picked while both are held: two ports picked one after the other can be the same port.
            var (siloPort, gatewayPort) = gateways is null ? FreePorts() : (0, 0);
            var all = new Dictionary<string, string?>
            {
                ["Orleans:ClusterId"] = clusterId,
                ["Rooms:AdminKey"] = adminKey,

                // Off unless a test turns it on (WarmUpTests): dozens of servers start per run, and a test's
                // counts and timings are its own.
                ["Rooms:WarmUp:Enabled"] = "false",
            };
            if (gateways is null)
            {
                all["Orleans:SiloPort"] = siloPort.ToString();
                all["Orleans:GatewayPort"] = gatewayPort.ToString();
            }
            else
            {
                all["Orleans:Role"] = "Client";
                for (var i = 0; i < gateways.Count; i++)
                {
                    all[$"Orleans:Gateways:{i}"] = $"127.0.0.1:{gateways[i]}";
                }
            }

            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                all[key] = value;
            }

            var app = FrontEndApp.Create(["--urls", "http://127.0.0.1:0"], builder =>
            {
                builder.Configuration.AddInMemoryCollection(all);
                builder.Logging.ClearProviders();
                builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
                configure?.Invoke(builder);
            });
            map?.Invoke(app);
            try
            {
                // Bounded: a client front end waits for its cluster for as long as it takes.
                using var started = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await app.StartAsync(started.Token);

                // Started means ready, as a load balancer sees it: the warm-up's sockets and counts are gone.
                if (waitForWarmUp)
                {
                    await app.Services.GetRequiredService<StartupWarmUp>().Done.WaitAsync(started.Token);
                }

                return new FrontEndServer(app, gatewayPort);
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

    /// <summary>
    /// A new socket connected to this front end over WebSockets (negotiated, so its id is known), registered in
    /// the cluster: SignalR answers the handshake before the registration, and it runs requests only after it,
    /// so one request round trip waits for it.
    /// </summary>
    public async Task<TestSocket> ConnectAsync()
    {
        var socket = await TestSocket.ConnectAsync(BaseAddress);
        await socket.RequestAsync("GET", "/socketId");
        return socket;
    }

    /// <summary>A plain HTTP client for this front end.</summary>
    public HttpClient Http() => new() { BaseAddress = BaseAddress, Timeout = TestSocket.Timeout };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static (int, int) FreePorts()
    {
        using var first = new TcpListener(IPAddress.Loopback, 0);
        using var second = new TcpListener(IPAddress.Loopback, 0);
        first.Start();
        second.Start();
        return (((IPEndPoint)first.LocalEndpoint).Port, ((IPEndPoint)second.LocalEndpoint).Port);
    }
}
