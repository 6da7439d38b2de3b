using Microsoft.AspNetCore.Hosting;
using Orleans.Rooms.Errors;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Authentication;
using Orleans.Rooms.Authorization;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Lease;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Presence;
using Orleans.Rooms.SocketIo;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.Telemetry;
using Orleans.Rooms.VirtualRequests;
using Orleans.Rooms.WarmUp;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms;

/// <summary>
/// Adds the rooms front end to an ASP.NET Core app (<see cref="AddRooms(IServiceCollection)"/>) and maps its socket hub
/// (<see cref="MapRooms"/>). The app also needs an Orleans silo or client in the same host (package Orleans.Rooms.Hosting:
/// <c>UseRoomsSilo()</c> or <c>UseRoomsClient()</c>; or <c>AddRoomGrains()</c> on a silo of its own).
/// </summary>
public static class RoomsServiceCollectionExtensions
{
    /// <summary>The tag of the health checks that say whether the front end is ready for sockets (<c>/readyz</c>).</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// The front end without its sockets' connections: its memberships and their listing, the door to the cluster,
    /// the router and <see cref="IRoomService"/>. <see cref="AddRooms(IServiceCollection, Action{ISignalRServerBuilder}?)"/>
    /// adds the connections; a test or a benchmark adds an <see cref="ISocketOutbox"/> of its own instead.
    /// </summary>
    internal static IServiceCollection AddFrontEndCore(this IServiceCollection services)
    {
        services.AddSelfValidatingOptions<RoomsOptions>(RoomsOptions.SectionName);
        services.AddSelfValidatingOptions<FrontEndOptions>(FrontEndOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<RoomsMetrics>();
        services.TryAddSingleton<FrontEndIdentity>();
        services.TryAddSingleton<IClusterDoor, ClusterDoor>();
        services.AddSelfValidatingOptions<PresenceOptions>(PresenceOptions.SectionName);
        services.TryAddSingleton<FrontEndMembership>();
        services.TryAddSingleton<FrontEndPresence>();
        services.TryAddSingleton(sp => new LocalFrontEnd(
            sp.GetRequiredService<FrontEndIdentity>().Id,
            sp.GetRequiredService<FrontEndMembership>(),
            sp.GetRequiredService<FrontEndPresence>(),
            sp.GetRequiredService<ISocketOutbox>(),
            sp.GetRequiredService<ISocketHandOvers>(),
            sp.GetRequiredService<SocketJournal>(),
            sp.GetRequiredService<IClusterDoor>(),
            sp.GetRequiredService<RoomsMetrics>(),
            sp.GetRequiredService<ILogger<LocalFrontEnd>>()));
        services.TryAddSingleton<ISocketHandOvers, NoSocketHandOvers>();
        services.TryAddSingleton<SocketJournal>();
        services.TryAddSingleton<FrontEndRouter>();
        services.TryAddSingleton<IRoomService, RoomService>();
        return services;
    }

    /// <summary>
    /// Adds the socket front end: <see cref="IRoomService"/>, the SignalR hub, delivery of broadcasts to this
    /// front end's sockets, and the virtual-request bridge. Map the hub with <see cref="MapRooms"/>. A socket request is
    /// its socket's user for every authentication scheme that ran when the socket connected, whatever its own headers say
    /// (<see cref="SocketAuthenticationOptions"/>, section <c>Rooms:Authentication</c>).
    /// </summary>
    public static IServiceCollection AddRooms(this IServiceCollection services) => services.AddRooms(configureSignalR: null);

    /// <summary>
    /// <see cref="AddRooms(IServiceCollection)"/>, handing the app SignalR's builder: protocols, hub filters,
    /// and hub options (<c>signalR.Services.Configure&lt;HubOptions&gt;(...)</c>), which are applied after the
    /// <c>Rooms:Limits</c> defaults and so win over them.
    /// </summary>
    public static IServiceCollection AddRooms(this IServiceCollection services, Action<ISignalRServerBuilder>? configureSignalR)
    {
        // The virtual-request bridge runs requests through the host's own application, which it receives by
        // standing in front of the server; so the server must be registered already.
        var server = services.LastOrDefault(d => d.ServiceType == typeof(IServer))
            ?? throw new InvalidOperationException("AddRooms needs the web host's server registered first: call it on WebApplicationBuilder.Services (or in ConfigureServices of a web host).");

        services.AddFrontEndCore();
        services.AddSelfValidatingOptions<SocketLimitsOptions>(SocketLimitsOptions.SectionName);
        services.AddSelfValidatingOptions<SocketOriginOptions>(SocketOriginOptions.SectionName);
        var signalR = services.AddSignalR();
        services.AddOptions<HubOptions>().Configure<IOptions<SocketLimitsOptions>>((hub, limits) => hub.MaximumParallelInvocationsPerClient = limits.Value.MaxParallelRequestsPerSocket);
        configureSignalR?.Invoke(signalR);
        services.AddSingleton<HubLifetimeManager<SocketHub>, RoomsHubLifetimeManager>();
        services.TryAddTransient(sp => new SocketHub(sp.GetRequiredService<VirtualRequestBridge>()));
        services.TryAddSingleton(sp =>
        {
            var sockets = ActivatorUtilities.CreateInstance<LocalSockets>(sp);
            sockets.FrontEndId = sp.GetRequiredService<FrontEndIdentity>().Id;
            return sockets;
        });
        services.TryAddSingleton<ISocketOutbox>(sp => sp.GetRequiredService<LocalSockets>());
        services.Replace(ServiceDescriptor.Singleton<ISocketHandOvers>(sp => sp.GetRequiredService<LocalSockets>()));
        services.TryAddSingleton<SocketArrivals>();
        services.TryAddSingleton<LocalFrontEnds>();
        services.TryAddSingleton<FrontEndLease>();
        services.AddHostedService(sp => sp.GetRequiredService<FrontEndLease>());
        services.AddHealthChecks().AddCheck<FrontEndHealthCheck>("rooms-front-end", tags: [ReadyTag]);
        services.TryAddSingleton<HubGate>();
        services.AddExceptionHandler<RoomsExceptionHandler>();
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, RoomsErrorsStartupFilter>());
        services.TryAddSingleton<HostApplication>();
        services.TryAddSingleton<SocketRequestLimiter>();
        services.TryAddSingleton<VirtualRequestBridge>();
        services.AddRoomsSocketIo();
        services.Replace(ServiceDescriptor.Singleton<IServer>(sp => new HostApplication.CapturingServer((IServer)Create(sp, server), sp.GetRequiredService<HostApplication>())));
        services.AddSocketAuthentication();
        services.AddAuthorizationBuilder().AddPolicy(RoomsAuthorization.JoinPolicy, policy => policy.AddRequirements(JoinRoomRequirement.Instance));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, JoinRoomRequirement.AllowUnlessRefused>());
        return services;
    }

    /// <summary>
    /// Adds a warm-up at start (<see cref="WarmUpOptions"/>, section <c>Rooms:WarmUp</c>): once the server has
    /// started and the front end is attached, a few in-process sockets (<see cref="InProcessSocket"/>) each run
    /// <paramref name="cycle"/> a number of times, and <c>/readyz</c> answers ready only after that. Call it after
    /// <see cref="AddRooms(IServiceCollection)"/>. One cycle runs: the first one added.
    /// </summary>
    public static IServiceCollection AddRoomsWarmUp(this IServiceCollection services, WarmUpCycle cycle)
    {
        ArgumentNullException.ThrowIfNull(cycle);
        if (services.Any(d => d.ServiceType == typeof(StartupWarmUp)))
        {
            return services;
        }

        services.AddSelfValidatingOptions<WarmUpOptions>(WarmUpOptions.SectionName);
        services.AddSingleton(cycle);
        services.TryAddSingleton<RuntimeActivity>();
        services.AddSingleton<StartupWarmUp>();
        services.AddHostedService(sp => sp.GetRequiredService<StartupWarmUp>());
        services.AddHealthChecks().AddCheck<WarmUpHealthCheck>("rooms-warm-up", tags: [ReadyTag]);
        return services;
    }

    /// <summary>
    /// Maps the socket hub (docs/protocol.md: <c>/sockets</c>) behind the origin check and the per-address limit
    /// (<see cref="SocketOriginOptions"/>, <see cref="SocketLimitsOptions.MaxConnectionsPerIp"/>). By default a
    /// connection closes when its authentication expires, and the negotiation speaks version 1 only, so a
    /// connection's token is never its public id. A negotiate answer names its connection token in header
    /// <c>X-Rooms-Connection-Token</c> too, for a load balancer that pins the connect to this front end.
    /// </summary>
    public static HubEndpointConventionBuilder MapRooms(this IEndpointRouteBuilder endpoints, string pattern = "/sockets", Action<HttpConnectionDispatcherOptions>? configure = null)
    {
        var hub = endpoints.MapHub<SocketHub>(pattern, options =>
        {
            options.CloseOnAuthenticationExpiration = true;

            // Version 0 makes the connection token equal to the connection id, which is the public socket id
            // (a broadcast's except, a kick's target): whoever knows it could poll or send as that socket.
            options.MinimumProtocolVersion = 1;
            configure?.Invoke(options);
        });
        var gate = endpoints.ServiceProvider.GetRequiredService<HubGate>();
        hub.Add(endpoint =>
        {
            var next = endpoint.RequestDelegate!;

            // Behind a load balancer, the connect must reach the front end that negotiated (NegotiateAffinity).
            if (endpoint.Metadata.OfType<NegotiateMetadata>().Any())
            {
                var negotiate = next;
                next = context => NegotiateAffinity.InvokeAsync(context, negotiate);
            }

            endpoint.RequestDelegate = context => gate.InvokeAsync(context, next);
        });
        return hub;
    }

    /// <summary>
    /// Stands in front of the app's <see cref="IAuthenticationService"/> (<see cref="SocketAuthenticationService"/>): the
    /// one registered so far, or ASP.NET Core's own, which <c>AddAuthentication</c> then does not add again (it only
    /// adds one where none is). Registers no scheme: an app without authentication stays without it.
    /// </summary>
    private static void AddSocketAuthentication(this IServiceCollection services)
    {
        services.AddSelfValidatingOptions<SocketAuthenticationOptions>(SocketAuthenticationOptions.SectionName);
        var app = services.LastOrDefault(d => d.ServiceType == typeof(IAuthenticationService) && !d.IsKeyedService);
        if (app is not null)
        {
            services.Remove(app);
        }

        services.Add(ServiceDescriptor.Describe(typeof(IAuthenticationService), sp => new SocketAuthenticationService(
            app is null ? ActivatorUtilities.CreateInstance<AuthenticationService>(sp) : (IAuthenticationService)Create(sp, app),
            sp.GetRequiredService<IAuthenticationSchemeProvider>(),
            sp.GetRequiredService<IOptions<SocketAuthenticationOptions>>()), app?.Lifetime ?? ServiceLifetime.Scoped));
    }

    private static object Create(IServiceProvider services, ServiceDescriptor descriptor) => (
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(services)
        ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));
}
