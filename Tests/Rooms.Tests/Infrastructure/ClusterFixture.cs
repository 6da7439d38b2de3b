using Microsoft.Extensions.DependencyInjection;
using System.Collections.Concurrent;
using System.Globalization;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Membership;
using Orleans.TestingHost;

namespace Orleans.Rooms.Tests.Infrastructure;

/// <summary>One three-silo cluster shared by the fast tests of a collection.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int SiloCount = 3;

    /// <summary>Kept small so the limit can be reached quickly; the default (1,000) is tested on its own.</summary>
    public const int MaxRoomsPerSocket = 20;

    private readonly ConcurrentDictionary<int, FrontEndCore> _apis = new();

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(SiloCount);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var api in _apis.Values)
        {
            await api.DisposeAsync();
        }

        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>The grain factory of silo <paramref name="silo"/>: calls made through it start on that silo.</summary>
    public IGrainFactory Grains(int silo)
        => ((InProcessSiloHandle)Cluster.Silos[silo % Cluster.Silos.Count]).SiloHost.Services.GetRequiredService<IGrainFactory>();

    /// <summary>
    /// The room API of a front end co-hosted with silo <paramref name="silo"/> that holds no sockets itself (one
    /// per silo, made on first use): what it does, it does through the cluster.
    /// </summary>
    public IRoomService Api(int silo) => _apis.GetOrAdd(silo % SiloCount, NewApi).Api;

    /// <summary>
    /// Another such room API, not shared, that has looked for nothing yet (dispose it): a reader with nothing
    /// remembered from what it did before, e.g. sockets it found nowhere a moment ago.
    /// </summary>
    internal FrontEndCore NewApi(int silo) => FrontEndCore.Create(Grains(silo), NoSockets.Instance, new Dictionary<string, string?>
    {
        ["Rooms:MaxRoomsPerSocket"] = MaxRoomsPerSocket.ToString(CultureInfo.InvariantCulture),
    });

    /// <summary>A front end attached to the cluster through the test client, recording what it is handed.</summary>
    internal Task<TestFrontEnd> FrontEnd(TimeSpan? lease = null, bool inboxes = true, Func<IFrontEndObserver, IFrontEndObserver>? observer = null)
        => TestFrontEnd.StartAsync(Cluster.Client, lease, inboxes: inboxes, observer: observer);

    /// <summary>The outbox of a front end that holds no sockets.</summary>
    private sealed class NoSockets : ISocketOutbox
    {
        public static readonly NoSockets Instance = new();

        public bool Send(string socketId, OutgoingEvent message) => false;

        public int SendToAll(OutgoingEvent message, string[]? except) => 0;
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddRoomGrains();
            siloBuilder.AddIncomingGrainCallFilter<FailingRoomsFilter>();
            siloBuilder.AddIncomingGrainCallFilter<RoomCallCounter>();
        }
    }

    /// <summary>Waits (bounded) until the cluster has declared <paramref name="silo"/> dead.</summary>
    public async Task WhenDeclaredDeadAsync(SiloAddress silo)
    {
        var management = this.Cluster.Client.GetGrain<IManagementGrain>(0);
        await Eventually.HoldsAsync(
            async () => (await management.GetHosts(onlyActive: false)).TryGetValue(silo, out var status) && status == SiloStatus.Dead,
            "the killed silo being declared dead",
            TimeSpan.FromSeconds(60));
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
