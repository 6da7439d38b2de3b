using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// Only allowed pages may open a socket (Sails' <c>onlyAllowOrigins</c>): checked on the negotiation and on
/// the WebSocket handshake itself, which CORS does not cover. Requests with no Origin (not a browser) pass.
/// </summary>
public sealed class OriginTests : IAsyncLifetime
{
    private const string Allowed = "https://app.example.com";
    private const string Evil = "http://evil.example";

    private FrontEndServer _embedded = null!;
    private FrontEndServer _configured = null!;

    public async Task InitializeAsync()
    {
        _embedded = await FrontEndServer.StartAsync("origin-" + Guid.NewGuid().ToString("N")[..8]);
        _configured = await FrontEndServer.StartAsync("origins-" + Guid.NewGuid().ToString("N")[..8], settings: new Dictionary<string, string?>
        {
            ["Rooms:Origins:Allowed:0"] = Allowed,
            ["Rooms:Origins:AllowLoopback"] = "false",
        });
    }

    public async Task DisposeAsync()
    {
        await _configured.DisposeAsync();
        await _embedded.DisposeAsync();
    }

    [Fact]
    public async Task AForeignOriginIsRefusedOnNegotiateAndOnTheWebSocketHandshake()
    {
        var negotiate = await NegotiateAsync(_embedded, Evil);
        var webSocket = await WebSocketStatusAsync(_embedded, Evil);

        Assert.Equal(HttpStatusCode.Forbidden, negotiate.StatusCode);
        Assert.Contains("Rooms:Origins:Allowed", await negotiate.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, webSocket);
    }

    [Fact]
    public async Task TheEmbeddedDefaultAllowsItsOwnOriginLoopbackAndClientsWithoutAnOrigin()
    {
        var own = _embedded.BaseAddress.GetLeftPart(UriPartial.Authority);

        Assert.Equal(HttpStatusCode.OK, (await NegotiateAsync(_embedded, own)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await NegotiateAsync(_embedded, "http://localhost:3000")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await NegotiateAsync(_embedded, null)).StatusCode);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await WebSocketStatusAsync(_embedded, own));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await WebSocketStatusAsync(_embedded, null));
    }

    [Fact]
    public async Task AConfiguredListAllowsItsOriginsAndWithoutLoopbackRefusesLocalPages()
    {
        Assert.Equal(HttpStatusCode.OK, (await NegotiateAsync(_configured, Allowed)).StatusCode);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await WebSocketStatusAsync(_configured, Allowed));
        Assert.Equal(HttpStatusCode.Forbidden, (await NegotiateAsync(_configured, "http://localhost:3000")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, await WebSocketStatusAsync(_configured, "https://app.example.com.evil.example"));
        Assert.Equal(HttpStatusCode.OK, (await NegotiateAsync(_configured, null)).StatusCode);
    }

    [Fact]
    public async Task TheNegotiationNeverHandsOutTheSocketIdAsTheConnectionToken()
    {
        using var http = _embedded.Http();

        var v0 = await http.PostAsync("/sockets/negotiate?negotiateVersion=0", null);
        var unversioned = await http.PostAsync("/sockets/negotiate", null);
        var v1 = await http.PostAsync("/sockets/negotiate?negotiateVersion=1", null);
        using var refused = JsonDocument.Parse(await v0.Content.ReadAsStringAsync());
        using var alsoRefused = JsonDocument.Parse(await unversioned.Content.ReadAsStringAsync());
        using var answer = JsonDocument.Parse(await v1.Content.ReadAsStringAsync());

        // Version 0 would make the token the connection id, which is public (the socket id): SignalR answers
        // such a negotiation with an error and no connection at all.
        Assert.Contains("does not support this version", refused.RootElement.GetProperty("error").GetString());
        Assert.False(refused.RootElement.TryGetProperty("connectionId", out _));
        Assert.False(alsoRefused.RootElement.TryGetProperty("connectionId", out _));
        Assert.NotEqual(answer.RootElement.GetProperty("connectionId").GetString(), answer.RootElement.GetProperty("connectionToken").GetString());
    }

    [Fact]
    public async Task ASocketCannotRequestTheSocketEndpointOverItself()
    {
        await using var socket = await _embedded.ConnectAsync();

        var reply = await socket.RequestAsync("POST", "/sockets/negotiate?negotiateVersion=1");

        Assert.Equal(400, reply.StatusCode);
        Assert.Contains("over a socket", reply.Text);
    }

    private static async Task<HttpResponseMessage> NegotiateAsync(FrontEndServer server, string? origin)
    {
        using var http = server.Http();
        var request = new HttpRequestMessage(HttpMethod.Post, "/sockets/negotiate?negotiateVersion=1");
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return await http.SendAsync(request);
    }

    /// <summary>A WebSocket connect straight to the hub, no negotiation, as a hostile page's script would do it.</summary>
    private static async Task<HttpStatusCode> WebSocketStatusAsync(FrontEndServer server, string? origin)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        var url = new UriBuilder(server.BaseAddress) { Scheme = "ws", Path = "/sockets" }.Uri;
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        try
        {
            await socket.ConnectAsync(url, timeout.Token);
        }
        catch (WebSocketException)
        {
        }

        return socket.HttpStatusCode;
    }
}
