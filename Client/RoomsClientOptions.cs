using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;

namespace Orleans.Rooms.Client;

/// <summary>How a <see cref="RoomsClient"/> reaches its front end and what it does when the connection drops.</summary>
public sealed class RoomsClientOptions
{
    /// <summary>The path of the socket hub on the front end (docs/protocol.md: <c>/sockets</c>).</summary>
    public string HubPath { get; set; } = "/sockets";

    /// <summary>The transports to try; WebSockets first by default, as SignalR does.</summary>
    public HttpTransportType Transports { get; set; } = HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling;

    /// <summary>Whether a dropped connection is connected again (resumed as the same socket when <see cref="Resumable"/> and within the window).</summary>
    public bool AutomaticReconnect { get; set; } = true;

    /// <summary>
    /// Whether the socket is resumable (README, "Resuming after a blip"): a blip shorter than the server's window
    /// comes back as the same socket with every event it missed. Off, the client speaks the plain protocol and a
    /// reconnect is always a new socket.
    /// </summary>
    public bool Resumable { get; set; } = true;

    /// <summary>
    /// The pauses before each reconnect attempt; after the last one, its pause repeats for as long as the
    /// client lives (SignalR's default policy gives up after four attempts, a browser tab or a service does not).
    /// While a resumable socket may still be held by the server (its window plus 5 s), no pause is longer than 500 ms.
    /// </summary>
    public IReadOnlyList<TimeSpan> ReconnectDelays { get; set; } = [TimeSpan.Zero, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)];

    /// <summary>How long one request waits for its answer before it fails with a <see cref="TimeoutException"/>.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Called on each connect (the first, each reconnect, each resume) for the access token the connection sends, as
    /// SignalR's <see cref="HttpConnectionOptions.AccessTokenProvider"/>: header <c>Authorization: Bearer</c> (a
    /// browser's WebSocket, which cannot carry headers, sends query <c>access_token</c>). The server fixes the socket's user
    /// from its connect requests (README, "Authentication over sockets"), so a token that expires is renewed here.
    /// </summary>
    public Func<Task<string?>>? AccessTokenProvider { get; set; }

    /// <summary>
    /// Headers of each connect (negotiate and connect, on every transport: .NET can set a WebSocket's), e.g. a cookie or an
    /// API key. Not those of the virtual requests: give them to <see cref="RoomsClient.RequestAsync"/>.
    /// </summary>
    public IDictionary<string, string> ConnectionHeaders { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Query parameters of each connect, beside the client's own (docs/protocol.md: <c>resumable</c>, <c>resume</c>,
    /// <c>seq</c>, <c>v</c>; SignalR's <c>id</c> and <c>negotiateVersion</c>), which they may not name.
    /// </summary>
    public IDictionary<string, string> ConnectionQuery { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Anything else of the underlying SignalR connection: cookies, a proxy, client certificates (applied last).</summary>
    public Action<HttpConnectionOptions>? ConfigureConnection { get; set; }
}
