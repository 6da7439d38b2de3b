namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>One embedded front end shared by the tests of a collection.</summary>
public sealed class FrontEndFixture : IAsyncLifetime
{
    public FrontEndServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await FrontEndServer.StartAsync("single-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class FrontEndCollection : ICollectionFixture<FrontEndFixture>
{
    public const string Name = "front end";
}

/// <summary>Two front ends on one cluster: A with its embedded silo, B an Orleans client of A's silo.</summary>
public sealed class TwoFrontEndsFixture : IAsyncLifetime
{
    public FrontEndServer A { get; private set; } = null!;

    public FrontEndServer B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var clusterId = "pair-" + Guid.NewGuid().ToString("N")[..8];
        A = await FrontEndServer.StartAsync(clusterId);
        B = await FrontEndServer.StartAsync(clusterId, gateways: [A.GatewayPort]);
    }

    public async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}
