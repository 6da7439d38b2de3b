using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Rooms.Sockets;

using Orleans.Rooms.SocketIo;

namespace Orleans.Rooms;

/// <summary>Sails' own wire: existing sails.io.js and socket.io clients on the same rooms as SignalR's (README, "Sails' own wire").</summary>
public static class RoomsSocketIoExtensions
{
    /// <summary>
    /// Maps the Engine.IO 4 / Socket.IO 5 endpoint (WebSocket transport) at <paramref name="pattern"/>, behind the
    /// hub's origin check and per-address limit. Its sockets are sockets like the hub's: same ids, rooms, limits
    /// and events, Sails' virtual requests through the same endpoints. Needs <c>AddRooms</c>. sails.io.js 1.2.1 with
    /// socket.io-client 4 passes its options in a way that client drops, and so connects to <c>/engine.io</c>: map
    /// that path too to serve such clients unchanged.
    /// </summary>
    public static IEndpointConventionBuilder MapRoomsSocketIo(this IEndpointRouteBuilder endpoints, string pattern = "/socket.io")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var endpoint = endpoints.ServiceProvider.GetService<SocketIoEndpoint>()
            ?? throw new InvalidOperationException("MapRoomsSocketIo needs the rooms front end: call services.AddRooms() first.");
        var gate = endpoints.ServiceProvider.GetRequiredService<HubGate>();
        var pipeline = endpoints.CreateApplicationBuilder();
        pipeline.UseWebSockets();
        pipeline.Run(context => gate.InvokeAsync(context, endpoint.InvokeAsync));
        return endpoints.Map(pattern, pipeline.Build()).WithDisplayName($"socket.io {pattern}");
    }

    /// <summary>The endpoint's parts; <c>AddRooms</c> calls it.</summary>
    internal static IServiceCollection AddRoomsSocketIo(this IServiceCollection services)
    {
        services.AddSelfValidatingOptions<SocketIoOptions>(SocketIoOptions.SectionName);
        services.TryAddSingleton<SocketIoHubProtocol>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHubProtocol, SocketIoHubProtocol>(sp => sp.GetRequiredService<SocketIoHubProtocol>()));
        services.TryAddSingleton<SocketIoEndpoint>();
        return services;
    }
}
