using Xunit.Abstractions;
using Xunit.Sdk;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// The cluster shape as <c>scripts/cluster up</c> starts it (real redis-server, two silos, two front ends as
/// Orleans clients, all separate processes), shared by a test class; <c>down</c> at the end, which must
/// leave none of the processes it started running (<see cref="ScriptedCluster"/>).
/// </summary>
public sealed class ScriptedClusterFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    public static readonly string AdminKey = ScriptedCluster.AdminKey;

    private ScriptedCluster? _cluster;

    public IReadOnlyList<Uri> FrontEnds { get; private set; } = [];

    /// <summary>Silos started by up and add-silo.</summary>
    public int Silos => _cluster!.Silos.Count;

    public async Task InitializeAsync()
    {
        _cluster = await ScriptedCluster.StartAsync(nameof(ScriptedClusterFixture), silos: 2, frontEnds: 2, message => diagnostics.OnMessage(new DiagnosticMessage(message)));
        FrontEnds = [.. _cluster.FrontEnds.Select(f => f.Url)];
    }

    /// <summary>The cluster's Redis (host:port), for an Orleans client of a test's own.</summary>
    public string Redis => _cluster!.Redis.Address;

    /// <summary>Runs <c>scripts/cluster add-silo</c>; returns the new silo.</summary>
    public async Task<ScriptedCluster.SiloServer> AddSiloAsync() => (await _cluster!.AddSiloAsync()).Silo;

    /// <summary>The HTTP address of each running silo, from <c>scripts/cluster status</c>.</summary>
    public Task<IReadOnlyList<Uri>> SiloAddressesAsync() => _cluster!.SiloAddressesAsync();

    /// <summary>The count of Active silos <paramref name="silo"/> reports at <c>GET /cluster</c>.</summary>
    public static Task<int> ActiveSilosAsync(Uri silo) => ScriptedCluster.ActiveSilosAsync(silo);

    /// <summary>A plain HTTP client for one server (no proxy: everything is on loopback).</summary>
    public static HttpClient Http(Uri server) => ScriptedCluster.Http(server);

    public Task DisposeAsync() => _cluster?.TearDownAsync() ?? Task.CompletedTask; // null: up failed and stopped what it started
}
