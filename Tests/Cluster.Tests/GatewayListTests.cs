using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orleans.Hosting;
using Orleans.Messaging;
using Orleans.Rooms.Hosting;
using Orleans.Runtime;

namespace Orleans.Rooms.Cluster.Tests;

/// <summary>
/// A front end's gateway list while Redis loses the membership table and a silo writes it back: the table is
/// empty, then partial, at versions below the ones read before, for milliseconds. Orleans' client closes its
/// connection to every gateway a list lacks (failing the calls on it), so the front end's list
/// (<c>ConfigureRoomsClient</c>, against a real redis-server) must not believe such a table; and must believe a
/// table that stays behind (a new one, every silo replaced).
/// </summary>
public sealed class GatewayListTests : IAsyncLifetime
{
    private const string ClusterId = "gateway-list-tests";
    private Process? _redis;
    private string _address = "";

    public async Task InitializeAsync()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _address = $"127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
        }

        var port = _address.Split(':')[1];
        _redis = Process.Start(new ProcessStartInfo("redis-server", ["--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--daemonize", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _redis.OutputDataReceived += (_, _) => { };
        _redis.BeginOutputReadLine();
        await Eventually.HoldsAsync(async () =>
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, int.Parse(port));
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, $"redis-server listening on {_address}", TimeSpan.FromSeconds(10));
    }

    public async Task DisposeAsync()
    {
        if (_redis is { } redis)
        {
            redis.Kill();
            await redis.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            redis.Dispose();
        }
    }

    [Fact]
    public async Task ATableBehindTheVersionsReadIsNotBelievedWhileItIsWrittenBackAndIsOnceItStaysBehind()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders(); // its warnings are what this test provokes
        builder.UseOrleansClient(client => client.ConfigureRoomsClient(new ClusterHostingOptions { Redis = _address, ClusterId = ClusterId }));
        builder.Services.AddSingleton<TimeProvider>(time);
        using var host = builder.Build();
        var gateways = host.Services.GetRequiredService<IGatewayListProvider>();
        var table = host.Services.GetRequiredService<IMembershipTable>();
        await gateways.InitializeGatewayListProviderAsync(CancellationToken.None);

        // A healthy table: silos 1 and 2 Active, at version 4.
        var version = await WriteAsync(table, 0, Silo(1), Silo(2));
        version = await BumpAsync(table, await BumpAsync(table, version));
        Assert.Equal(4, version);
        Assert.Equal([Gateway(1), Gateway(2)], Sorted(await gateways.GetGatewaysAsync(CancellationToken.None)));

        // Redis loses it; a silo's guard creates the version row and writes the rows back one by one, at versions
        // 1 and 2, below the 4 read before: the front end keeps both gateways, at each step.
        await table.DeleteMembershipTableEntriesAsync(ClusterId, CancellationToken.None);
        await table.InitializeMembershipTableAsync(true, CancellationToken.None);
        Assert.Equal([Gateway(1), Gateway(2)], Sorted(await gateways.GetGatewaysAsync(CancellationToken.None)));
        version = await WriteAsync(table, 0, Silo(1));
        Assert.Equal([Gateway(1), Gateway(2)], Sorted(await gateways.GetGatewaysAsync(CancellationToken.None)));

        // Written back past version 4 (with a silo that joined meanwhile): believed at once.
        version = await WriteAsync(table, version, Silo(2), Silo(3));
        version = await BumpAsync(table, await BumpAsync(table, version));
        Assert.Equal(5, version);
        Assert.Equal([Gateway(1), Gateway(2), Gateway(3)], Sorted(await gateways.GetGatewaysAsync(CancellationToken.None)));

        // A new table (Redis and every silo replaced) stays behind: kept for BehindFor, then believed.
        await table.DeleteMembershipTableEntriesAsync(ClusterId, CancellationToken.None);
        await table.InitializeMembershipTableAsync(true, CancellationToken.None);
        await WriteAsync(table, 0, Silo(4));
        Assert.Equal([Gateway(1), Gateway(2), Gateway(3)], Sorted(await gateways.GetGatewaysAsync(CancellationToken.None)));
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal([Gateway(1), Gateway(2), Gateway(3)], Sorted(await gateways.GetGatewaysAsync(CancellationToken.None)));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([Gateway(4)], Sorted(await gateways.GetGatewaysAsync(CancellationToken.None)));
    }

    private static MembershipEntry Silo(int n) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, 11000 + n, 100 + n),
        Status = SiloStatus.Active,
        ProxyPort = 30000 + n,
        HostName = "localhost",
        SiloName = $"silo-{n}",
        StartTime = DateTime.UtcNow,
        IAmAliveTime = DateTime.UtcNow,
        SuspectTimes = [],
    };

    private static Uri Gateway(int n) => SiloAddress.New(IPAddress.Loopback, 30000 + n, 100 + n).ToGatewayUri();

    /// <summary>The version after <paramref name="version"/>, conditional on the table being at it (Orleans' <c>TableVersion.Next()</c>).</summary>
    private static TableVersion Next(int version) => new TableVersion(version, version.ToString(System.Globalization.CultureInfo.InvariantCulture)).Next();

    private static Uri[] Sorted(IList<Uri> gateways) => [.. gateways.OrderBy(g => g.ToString(), StringComparer.Ordinal)];

    /// <summary>Inserts each row with its own version step, as Orleans and the guard do; returns the version reached.</summary>
    private static async Task<int> WriteAsync(IMembershipTable table, int version, params MembershipEntry[] rows)
    {
        foreach (var row in rows)
        {
            Assert.True(await table.InsertRowAsync(row, Next(version), CancellationToken.None), $"inserting {row.SiloName} at version {version + 1}");
            version++;
        }

        return version;
    }

    /// <summary>One more version step: the first row written again, as a status change does; returns the version reached.</summary>
    private static async Task<int> BumpAsync(IMembershipTable table, int version)
    {
        var (row, etag) = (await table.ReadAllAsync(CancellationToken.None)).Members[0];
        Assert.True(await table.UpdateRowAsync(row, etag, Next(version), CancellationToken.None), $"writing {row.SiloName} again at version {version + 1}");
        return version + 1;
    }
}
