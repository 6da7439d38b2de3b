using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.Telemetry;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms;

public static class RoomsServiceCollectionExtensions
{
    /// <summary>The tag of the health checks that say whether the front end is ready for sockets (<c>/readyz</c>).</summary>
    public const string ReadyTag = "ready";

    /// <summary>Adds <see cref="IRoomService"/> over the Orleans cluster this process hosts or is a client of.</summary>
    public static IServiceCollection AddRoomService(this IServiceCollection services)
    {
        services.AddRoomsOptions();
        services.TryAddSingleton<IRoomService, RoomService>();
        return services;
    }

    /// <summary>
    /// Adds the socket front end: <see cref="IRoomService"/>, the SignalR hub, delivery of broadcasts to this
    /// front end's sockets, and the virtual-request bridge. Map the hub with <see cref="MapRooms"/>.
    /// </summary>
    public static IServiceCollection AddRooms(this IServiceCollection services)
    {
        services.AddRoomService();
        services.AddSelfValidatingOptions<FrontEndOptions>(FrontEndOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSignalR();
        services.AddSingleton<HubLifetimeManager<SocketHub>, RoomsHubLifetimeManager>();
        services.AddMetrics();
        services.TryAddSingleton<RoomsMetrics>();
        services.TryAddSingleton<LocalSockets>();
        services.TryAddSingleton<LocalFrontEnds>();
        services.TryAddSingleton<LocalDelivery>();
        services.TryAddSingleton<FrontEndIdentity>();
        services.TryAddSingleton<FrontEndLease>();
        services.AddHostedService(sp => sp.GetRequiredService<FrontEndLease>());
        services.AddHealthChecks().AddCheck<FrontEndHealthCheck>("rooms-front-end", tags: [ReadyTag]);
        services.TryAddSingleton<ApplicationPipeline>();
        services.TryAddSingleton<VirtualRequestBridge>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, ApplicationPipeline.CaptureFilter>());
        return services;
    }

    /// <summary>Maps the socket hub (PROTOCOL.md: <c>/sockets</c>).</summary>
    public static HubEndpointConventionBuilder MapRooms(this IEndpointRouteBuilder endpoints, string pattern = "/sockets", Action<HttpConnectionDispatcherOptions>? configure = null)
        => endpoints.MapHub<SocketHub>(pattern, options => configure?.Invoke(options));
}
