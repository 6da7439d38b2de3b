using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Membership;
using Orleans.TestingHost;

namespace Orleans.Rooms.Tests.Infrastructure;

/// <summary>One three-silo cluster shared by the fast tests of a collection.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int SiloCount = 3;

    /// <summary>Kept small so the limit can be reached quickly; the default (1,000) is tested on its own.</summary>
    public const int MaxRoomsPerSocket = 20;

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
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>The grain factory of silo <paramref name="silo"/>: calls made through it start on that silo.</summary>
    public IGrainFactory Grains(int silo)
        => ((InProcessSiloHandle)Cluster.Silos[silo % Cluster.Silos.Count]).SiloHost.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The room API running on silo <paramref name="silo"/>, as a co-hosted front end would run it.</summary>
    public IRoomService Api(int silo) => new RoomService(Grains(silo), Options.Create(new RoomsOptions { MaxRoomsPerSocket = MaxRoomsPerSocket }));

    /// <summary>A front end attached to the cluster through the test client, recording what it is handed.</summary>
    public Task<TestFrontEnd> FrontEnd(TimeSpan? lease = null) => TestFrontEnd.StartAsync(Cluster.Client, lease);

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddRooms();
            siloBuilder.AddIncomingGrainCallFilter<FailingRoomsFilter>();
            siloBuilder.AddIncomingGrainCallFilter<RoomCallCounter>();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
