using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// A SignalR JSON-protocol client written straight on a WebSocket, for what the real client will not
/// do: vanish without a close handshake, or stop reading.
/// </summary>
public sealed class RawSocket : IDisposable
{
    private const char Separator = '\u001e';
    private readonly ClientWebSocket _socket = new();
    private readonly StringBuilder _pending = new();
    private int _invocations;

    public static async Task<RawSocket> ConnectAsync(Uri baseAddress)
    {
        var raw = new RawSocket();
        var url = new UriBuilder(baseAddress) { Scheme = "ws", Path = "/sockets" }.Uri;
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        await raw._socket.ConnectAsync(url, timeout.Token);
        await raw.SendAsync("""{"protocol":"json","version":1}""");
        var handshake = await raw.ReceiveAsync();
        if (handshake != "{}")
        {
            throw new InvalidOperationException($"Handshake refused: {handshake}");
        }

        return raw;
    }

    /// <summary>Invokes Request and returns the envelope's body.</summary>
    public async Task<JsonElement> RequestAsync(object envelope)
    {
        var id = (++_invocations).ToString();
        await SendAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target = "Request", arguments = new[] { envelope } }));
        for (var i = 0; i < 1000; i++)
        {
            using var message = JsonDocument.Parse(await ReceiveAsync());
            var root = message.RootElement;
            if (root.GetProperty("type").GetInt32() == 3 && root.GetProperty("invocationId").GetString() == id)
            {
                return root.GetProperty("result").GetProperty("body").Clone();
            }
        }

        throw new InvalidOperationException("No completion for the request among 1000 messages.");
    }

    /// <summary>
    /// Invokes <paramref name="target"/> with arguments given as JSON text (so anything the real client would
    /// refuse to write can be sent: lone surrogates, deep nesting) and returns the completion message.
    /// </summary>
    public async Task<JsonElement> InvokeRawAsync(string target, string argumentsJson)
    {
        var id = (++_invocations).ToString();
        await SendAsync($$"""{"type":1,"invocationId":"{{id}}","target":{{JsonSerializer.Serialize(target)}},"arguments":{{argumentsJson}}}""");
        for (var i = 0; i < 1000; i++)
        {
            using var message = JsonDocument.Parse(await ReceiveAsync());
            var root = message.RootElement;
            if (root.GetProperty("type").GetInt32() == 3 && root.GetProperty("invocationId").GetString() == id)
            {
                return root.Clone();
            }
        }

        throw new InvalidOperationException("No completion for the invocation among 1000 messages.");
    }

    /// <summary>Sends a hub message written as JSON text (a non-blocking invocation: one without an invocation id).</summary>
    public Task SendRawAsync(string messageJson) => SendAsync(messageJson);

    /// <summary>The next hub message, as JSON text.</summary>
    public Task<string> ReceiveMessageAsync() => ReceiveAsync();

    /// <summary>
    /// The hub messages of the next WebSocket message (all its frames): what the server wrote to the connection in
    /// one send. Only when no message of an earlier one is left unread.
    /// </summary>
    public async Task<string[]> ReceiveWebSocketMessageAsync()
    {
        if (_pending.Length > 0)
        {
            throw new InvalidOperationException("Messages of an earlier WebSocket message are still unread.");
        }

        return (await ReceiveWholeAsync()).Split(Separator, StringSplitOptions.RemoveEmptyEntries);
    }

    public WebSocketState State => _socket.State;

    /// <summary>Drops the TCP connection without a close handshake, as a crashed client would.</summary>
    public void Abort() => _socket.Abort();

    public void Dispose() => _socket.Dispose();

    private async Task SendAsync(string message)
    {
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message + Separator), WebSocketMessageType.Text, true, timeout.Token);
    }

    private async Task<string> ReceiveAsync()
    {
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf(Separator);
            if (end >= 0)
            {
                _pending.Remove(0, end + 1);
                return text[..end];
            }

            _pending.Append(await ReceiveWholeAsync());
        }
    }

    /// <summary>The text of the next WebSocket message, all its frames.</summary>
    private async Task<string> ReceiveWholeAsync()
    {
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        var text = new StringBuilder();
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketException("The server closed the socket.");
            }

            text.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
        while (!result.EndOfMessage);

        return text.ToString();
    }
}
