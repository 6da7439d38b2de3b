using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// One embedded front end for the tests of the clients, which can drop a socket's connection from the
/// server side (as a network failure would) to see the clients connect again, and a <see cref="BlipProxy"/> in
/// front of it whose network a test (rooms.js in node, too) cuts with <c>POST /test/sever?refuseMs=…</c>. Its
/// resume window is <see cref="ResumeWindow"/>, short enough to wait out in a test.
/// </summary>
public sealed class ClientsFixture : IAsyncLifetime
{
    public static readonly TimeSpan ResumeWindow = TimeSpan.FromSeconds(5);

    public FrontEndServer Server { get; private set; } = null!;

    /// <summary>A proxy in front of <see cref="Server"/>, for clients whose network a test cuts.</summary>
    public BlipProxy Proxy { get; private set; } = null!;

    public ConnectionDropper Dropper { get; } = new();

    public async Task InitializeAsync()
    {
        Server = await FrontEndServer.StartAsync(
            "clients-" + Guid.NewGuid().ToString("N")[..8],
            configure: builder => builder.Services.AddSignalR(options => options.AddFilter(Dropper)),
            map: app =>
            {
                app.MapPost("/test/drop/{socketId}", (string socketId) => Dropper.Drop(socketId));
                app.MapPost("/test/sever", (int refuseMs) => Proxy.Sever(TimeSpan.FromMilliseconds(refuseMs)));
            },
            settings: new Dictionary<string, string?> { ["Rooms:ResumeWindow"] = ResumeWindow.ToString() });
        Proxy = new BlipProxy(Server.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ClientsCollection : ICollectionFixture<ClientsFixture>
{
    public const string Name = "clients";
}

/// <summary>
/// Keeps each connection's context so that a test can cut it as the network would: the TCP connection under
/// the WebSocket is aborted, with no close message (<see cref="HubCallerContext.Abort"/> would send one that
/// tells the client not to reconnect).
/// </summary>
public sealed class ConnectionDropper : IHubFilter
{
    private readonly ConcurrentDictionary<string, HubCallerContext> _connections = new(StringComparer.Ordinal);

    public Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        _connections[context.Context.ConnectionId] = context.Context;
        return next(context);
    }

    public Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        _connections.TryRemove(context.Context.ConnectionId, out _);
        return next(context, exception);
    }

    public void Drop(string socketId)
    {
        if (!_connections.TryGetValue(socketId, out var connection))
        {
            throw new InvalidOperationException($"No connection {socketId} on this front end.");
        }

        var http = connection.GetHttpContext() ?? throw new InvalidOperationException($"Connection {socketId} has no HTTP request to abort.");
        http.Abort();
    }
}
