using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// A front end's core without a web host: its memberships, door, router, observer and <see cref="IRoomService"/>,
/// wired exactly as <c>AddRooms</c> wires them (<see cref="RoomsServiceCollectionExtensions.AddFrontEndCore"/>),
/// over a given grain factory and a given <see cref="ISocketOutbox"/>. Tests and benchmarks stand in for
/// front ends with it, so they run the same code rather than a copy of it.
/// </summary>
internal sealed class FrontEndCore : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private FrontEndCore(ServiceProvider services)
    {
        _services = services;
        Local = services.GetRequiredService<LocalFrontEnd>();
        Api = services.GetRequiredService<IRoomService>();
        Door = services.GetRequiredService<IClusterDoor>();
    }

    /// <summary>This front end's observer: hand it to its front-end grain's <c>Renew</c>.</summary>
    public LocalFrontEnd Local { get; }

    public string Id => Local.Id;

    public FrontEndMembership Membership => Local.Membership;

    public IRoomService Api { get; }

    public IClusterDoor Door { get; }

    /// <param name="grains">Where its calls go (a client, or a silo's grain factory).</param>
    /// <param name="outbox">Where the events for its sockets go.</param>
    /// <param name="settings">Configuration, as <c>Rooms:...</c> keys (e.g. <c>Rooms:FrontEnd:Id</c>).</param>
    public static FrontEndCore Create(IGrainFactory grains, ISocketOutbox outbox, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? []).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddSingleton(grains)
            .AddSingleton(outbox)
            .AddFrontEndCore()
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        return new FrontEndCore(services);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
