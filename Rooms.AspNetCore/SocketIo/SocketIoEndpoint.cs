using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.SocketIo;

/// <summary>
/// Sails' own wire at <c>/socket.io/</c> (<see cref="RoomsSocketIoExtensions.MapRoomsSocketIo"/>): an Engine.IO 4
/// handshake over a WebSocket (the transport sails.io.js 1.x asks for by default), refused with Engine.IO's own
/// error body (<c>{"code","message"}</c>, 400) when the client asks for what is not served: Engine.IO 3
/// (socket.io-client 2), long-polling, a session id to resume, a sails.io.js older than 0.11 (which Sails 1
/// refuses too). The hub's gate (<see cref="HubGate"/>: origins, connections per address, a stopping front end)
/// stands in front of it.
/// </summary>
internal sealed class SocketIoEndpoint(
    HubConnectionHandler<SocketHub> handler,
    SocketIoHubProtocol protocol,
    IOptions<SocketIoOptions> options,
    IOptions<HubOptions> hubs,
    IOptions<HubOptions<SocketHub>> hub,
    IHostApplicationLifetime host,
    TimeProvider time,
    ILogger<SocketIoEndpoint> logger)
{
    /// <summary>What SignalR's JSON framing of a <c>Request</c> adds to a packet at most (<see cref="SocketIoConnection"/>).</summary>
    private const int InvocationOverhead = 128;

    /// <summary>Engine.IO's default <c>maxPayload</c>, for a hub with no receive limit.</summary>
    private const int UnlimitedHubMaxPacket = 1_000_000;

    private const string SdkVersion = "__sails_io_sdk_version";

    public HubConnectionHandler<SocketHub> Handler => handler;

    public SocketIoHubProtocol Protocol => protocol;

    public SocketIoOptions Options { get; } = options.Value;

    public TimeProvider Time => time;

    public ILogger Logger => logger;

    public CancellationToken Stopping => host.ApplicationStopping;

    /// <summary>
    /// The largest packet a client may send: what the hub takes in one message (<c>HubOptions.MaximumReceiveMessageSize</c>,
    /// the hub's own or else every hub's), less its framing.
    /// </summary>
    public int MaxPacketBytes { get; } = (hub.Value.MaximumReceiveMessageSize ?? hubs.Value.MaximumReceiveMessageSize) is long max
        ? (int)Math.Clamp(max - InvocationOverhead, 1, int.MaxValue - 1)
        : UnlimitedHubMaxPacket;

    /// <summary>A new id: 128 random bits, base64url, as SignalR's connection ids.</summary>
    public string NewId() => SocketIds.New();

    /// <summary>Engine.IO's open packet: <c>0{"sid","upgrades":[],"pingInterval","pingTimeout","maxPayload"}</c>.</summary>
    public byte[] OpenPacket()
    {
        var open = JsonSerializer.SerializeToUtf8Bytes(new
        {
            sid = NewId(),
            upgrades = Array.Empty<string>(),
            pingInterval = (long)Options.PingInterval.TotalMilliseconds,
            pingTimeout = (long)Options.PingTimeout.TotalMilliseconds,
            maxPayload = MaxPacketBytes,
        });
        return [(byte)'0', .. open];
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var refusal = Refusal(context.Request.Query);
        if (refusal is null && !context.WebSockets.IsWebSocketRequest)
        {
            refusal = (3, "Bad request: this endpoint serves the WebSocket transport only; connect with a WebSocket (transports: ['websocket']).");
        }

        if (refusal is { } refused)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new { code = refused.Code, message = refused.Message });
            return;
        }

        using var ws = await context.WebSockets.AcceptWebSocketAsync();
        await new SocketIoConnection(context, ws, this).RunAsync();
    }

    /// <summary>Engine.IO's error code and a message naming what to change, for a handshake this server does not serve.</summary>
    private static (int Code, string Message)? Refusal(IQueryCollection query)
    {
        if (query["EIO"] != "4")
        {
            return (5, $"Unsupported protocol version: EIO={Clip(query["EIO"])}; this server speaks Engine.IO 4 (socket.io-client 3 and 4), not Engine.IO 3 (socket.io-client 2, as bundled in sails.io.js-dist).");
        }

        if (query["transport"] != "websocket")
        {
            return (0, $"Transport unknown: transport={Clip(query["transport"])}; only websocket is served (sails.io.js' default; give socket.io-client transports: ['websocket']).");
        }

        if (query.ContainsKey("sid"))
        {
            return (1, "Session ID unknown: this server does not upgrade long-polling sessions; connect with a WebSocket from the start.");
        }

        if (query.ContainsKey("resume") || query.ContainsKey("resumable"))
        {
            return (3, "Bad request: resume and resumable are parameters of the SignalR hub (/sockets), not of this endpoint.");
        }

        if (query.TryGetValue(SdkVersion, out var sdk) && !IsServedSdk(sdk.ToString()))
        {
            return (4, $"Forbidden: sails.io.js {Clip(sdk)} ({SdkVersion}) is older than 0.11 or not a version; Sails 1 and this server serve 0.11 and later.");
        }

        return null;
    }

    private static bool IsServedSdk(string version)
    {
        var stable = version.Split('-', 2)[0];
        return Version.TryParse(stable.Contains('.') ? stable : stable + ".0", out var parsed) && parsed >= new Version(0, 11);
    }

    private static string Clip(Microsoft.Extensions.Primitives.StringValues value)
    {
        var text = value.ToString();
        return text.Length <= 20 ? text : text[..20] + "…";
    }
}
