using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.Extensions.Logging;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.SocketIo;

/// <summary>
/// One Engine.IO 4 connection over a WebSocket, carrying one Socket.IO 5 socket in the default namespace. On the
/// client's <c>CONNECT</c> it opens a connection to this front end's own hub over in-memory pipes (as
/// <see cref="InProcessSocket"/> does), so the socket is registered, limited, listed in rooms, reached by broadcasts
/// and unregistered exactly as a SignalR connection is; its id is the <c>sid</c> the client is told. Sails' virtual
/// requests (events <c>get</c>, <c>post</c>, <c>put</c>, <c>patch</c>, <c>delete</c> with an ack) become invocations
/// of hub method <c>Request</c>; what the hub writes is already Socket.IO (<see cref="SocketIoHubProtocol"/>).
/// </summary>
/// <remarks>
/// With connection-state recovery (<see cref="SocketIoOptions.ConnectionStateRecovery"/>, socket.io 4.6+'s) the socket
/// is a resumable one (<see cref="ResumableSocket"/>, acknowledged by offset): the <c>CONNECT</c> answer names its
/// <c>pid</c>, each event its offset, and a <c>CONNECT</c> that presents <c>{"pid","offset"}</c> takes the socket over,
/// on this front end or from another (<see cref="SocketArrivals"/>), with its rooms and the events after that offset;
/// else it is a fresh socket. A socket that leaves by the client's <c>DISCONNECT</c> or Engine.IO close, or whose
/// packet was refused, ends at once; one whose connection was lost (closed, cut, timed out, its front end stopping)
/// is held for the resume window, as socket.io holds the recoverable ones.
/// A packet that is not Engine.IO 4 / Socket.IO 5 closes the connection (as a socket.io server does), with a
/// WebSocket close reason naming what was wrong; binary packets are not served. A client that misses a pong for
/// <see cref="SocketIoOptions.PingTimeout"/>, or sends no <c>CONNECT</c> within <see cref="SocketIoOptions.ConnectTimeout"/>, is cut.
/// </remarks>
internal sealed partial class SocketIoConnection : IHttpContextFeature, IConnectionUserFeature, IConnectionInherentKeepAliveFeature, IResumeRequestFeature
{
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);
    private static readonly string[] Methods = ["get", "post", "put", "patch", "delete"];
    private static readonly byte[] Ping = "2"u8.ToArray();

    private readonly WebSocket _ws;
    private readonly SocketIoEndpoint _server;
    private readonly Pipe _toHub = new();
    private readonly Pipe _fromHub = new();
    private readonly CancellationTokenSource _abort;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly SemaphoreSlim _pong = new(0, 1);
    private readonly Lock _closeLock = new();
    private string? _socketId;
    private DefaultConnectionContext? _connection;
    private bool _leaving;
    private Task _served = Task.CompletedTask;
    private Task _pumped = Task.CompletedTask;
    private Task? _closing;

    public SocketIoConnection(HttpContext http, WebSocket ws, SocketIoEndpoint server)
    {
        HttpContext = http;
        User = http.User;
        _ws = ws;
        _server = server;
        _abort = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
    }

    public HttpContext? HttpContext { get; set; }

    public ClaimsPrincipal? User { get; set; }

    /// <summary>Engine.IO's ping and pong keep the connection: the hub sends no pings of its own and times nothing out.</summary>
    public bool HasInherentKeepAlive => true;

    /// <summary>What the socket's <c>CONNECT</c> asked for: a resumable socket, or the one its <c>pid</c> names, when recovery is on.</summary>
    public ResumeRequest ResumeRequest { get; private set; }

    /// <summary>Serves the connection until it ends, and returns once the hub has let its socket go.</summary>
    public async Task RunAsync()
    {
        using var stopping = _server.Stopping.Register(() => BeginClose(WebSocketCloseStatus.EndpointUnavailable, "This front end is stopping: connect again."));
        var pinging = PingAsync();
        try
        {
            await SendAsync(_server.OpenPacket());
            await ReceiveAsync();
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ConnectionAbortedException)
        {
            // The client went, or was cut (no pong, no CONNECT, a close it did not answer).
        }
        finally
        {
            if (_leaving && _connection is not null)
            {
                LocalSockets.Leaving(_connection); // not held for a recovery
            }

            await _toHub.Writer.CompleteAsync(); // the hub sees the client go, and unregisters the socket
            await _served;
            await _pumped;
            BeginClose(WebSocketCloseStatus.NormalClosure, string.Empty);
            await _closing!;
            await AwaitCloseAsync();
            await _abort.CancelAsync();
            await pinging;
            _abort.Dispose();
        }
    }

    private async Task ReceiveAsync()
    {
        var max = _server.MaxPacketBytes;
        byte[]? buffer = null;
        var count = 0;
        try
        {
            while (true)
            {
                ValueWebSocketReceiveResult result;
                if (count == 0)
                {
                    // Between messages it holds no buffer: a read of nothing returns once the next message starts, as
                    // SignalR's transport waits (5,000 idle sockets held 4 KB each of rented buffers). A message that
                    // ends there is empty, and is answered below as any other.
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                    }

                    result = await _ws.ReceiveAsync(Memory<byte>.Empty, _abort.Token);
                    if (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close)
                    {
                        buffer = ArrayPool<byte>.Shared.Rent(4096);
                        result = await _ws.ReceiveAsync(buffer.AsMemory(), _abort.Token);
                    }
                }
                else
                {
                    if (count == buffer!.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                        buffer.AsSpan(0, count).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    result = await _ws.ReceiveAsync(buffer.AsMemory(count), _abort.Token);
                }

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                count += result.Count;
                if (count > max)
                {
                    Refuse(WebSocketCloseStatus.MessageTooBig, $"A message over {max} bytes (the hub's MaximumReceiveMessageSize).");
                    return;
                }

                if (!result.EndOfMessage)
                {
                    continue;
                }

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    Refuse(WebSocketCloseStatus.InvalidMessageType, "Binary packets are not served: send JSON only.");
                    return;
                }

                if (!await OnPacketAsync(buffer is null ? ReadOnlyMemory<byte>.Empty : buffer.AsMemory(0, count)))
                {
                    return;
                }

                count = 0;
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>One Engine.IO packet; false when the connection is to end.</summary>
    private async ValueTask<bool> OnPacketAsync(ReadOnlyMemory<byte> packet)
    {
        switch (packet.Length == 0 ? (byte)0 : packet.Span[0])
        {
            case (byte)'4':
                return await OnSocketIoPacketAsync(packet[1..]);
            case (byte)'3':
                if (_pong.CurrentCount == 0)
                {
                    _pong.Release();
                }

                return true;
            case (byte)'2':
                await SendAsync(Concat("3"u8, packet.Span[1..]));
                return true;
            case (byte)'6':
            case (byte)'5':
                return true; // noop; an upgrade that was never offered changes nothing
            case (byte)'1':
                _leaving = true;
                BeginClose(WebSocketCloseStatus.NormalClosure, string.Empty);
                return false;
            default:
                return Refuse(WebSocketCloseStatus.ProtocolError, "Not an Engine.IO 4 packet: a message starts with 1 (close), 2 (ping), 3 (pong), 4 (message), 5 (upgrade) or 6 (noop).");
        }
    }

    private async ValueTask<bool> OnSocketIoPacketAsync(ReadOnlyMemory<byte> packet)
    {
        if (!SocketIoPacket.TryParse(packet, out var parsed, out var error))
        {
            return Refuse(WebSocketCloseStatus.ProtocolError, error!);
        }

        if (!parsed.IsDefaultNamespace)
        {
            // No namespace but the default one is served; a CONNECT to another is refused, the connection stays.
            if (parsed.Type == SocketIoPacket.Connect)
            {
                await SendAsync(Concat("44"u8, parsed.Namespace.Span, ","u8, """{"message":"Invalid namespace"}"""u8));
            }

            return true;
        }

        switch (parsed.Type)
        {
            case SocketIoPacket.Connect:
                if (!parsed.Data.IsEmpty && !SocketIoPacket.IsJsonObject(parsed.Data))
                {
                    return Refuse(WebSocketCloseStatus.ProtocolError, "A CONNECT's payload must be a JSON object (the auth) or nothing.");
                }

                return _socketId is not null || await ConnectAsync(parsed.Data);
            case SocketIoPacket.Disconnect:
                _leaving = true;
                BeginClose(WebSocketCloseStatus.NormalClosure, string.Empty);
                return false;
            case SocketIoPacket.Event:
                return _socketId is null || await OnEventAsync(parsed);
            case SocketIoPacket.Ack:
                return true; // the server asks no acks
            default:
                return Refuse(WebSocketCloseStatus.ProtocolError, "A client sends CONNECT, DISCONNECT, EVENT or ACK packets, not CONNECT_ERROR.");
        }
    }

    /// <summary>
    /// Opens the socket's connection to the hub: once the hub has answered its handshake, the client is told the
    /// socket id; false (the client told why) when the hub refused it.
    /// </summary>
    private async ValueTask<bool> ConnectAsync(ReadOnlyMemory<byte> auth)
    {
        var id = _server.NewId();
        var recovery = _server.Options.ConnectionStateRecovery;
        if (recovery)
        {
            var (pid, offset) = Recovering(auth);
            ResumeRequest = new ResumeRequest(Resumable: true, pid, offset, Version: 1, AcksByOffset: true);
        }

        var connection = new DefaultConnectionContext(id, new DuplexPipe(_toHub.Reader, _fromHub.Writer), new DuplexPipe(_fromHub.Reader, _toHub.Writer));
        connection.Features.Set<IHttpContextFeature>(this);
        connection.Features.Set<IConnectionUserFeature>(this);
        connection.Features.Set<IConnectionInherentKeepAliveFeature>(this);
        connection.Features.Set<IResumeRequestFeature>(this);
        _connection = connection;
        _served = ServeAsync(connection);
        try
        {
            await HubHandshake.RunAsync(_toHub.Writer, _fromHub.Reader, _server.Protocol, "socket.io socket", _abort.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ConnectionAbortedException)
        {
            LogRefused(_server.Logger, id, ex.Message);
            await SendAsync(Concat("44"u8, JsonSerializer.SerializeToUtf8Bytes(new { message = ex.Message })));
            BeginClose(WebSocketCloseStatus.InternalServerError, "The server could not open the socket.");
            return false;
        }

        _socketId = id;
        if (!recovery)
        {
            // Before anything the hub writes: events wait in the pipe until the client knows its socket.
            await SendAsync(Concat("40{\"sid\":\""u8, Encoding.ASCII.GetBytes(id), "\"}"u8));
        }

        // With recovery the hub writes the CONNECT answer itself (rooms.attached), before the socket's events.
        _pumped = PumpAsync();
        return true;
    }

    /// <summary>
    /// The <c>pid</c> and <c>offset</c> a recovering client puts in its <c>CONNECT</c> (socket.io-client 4.6+): both
    /// strings, the offset the number of the last event it processed (none: it processed none). Anything else asks
    /// for a fresh socket, as socket.io takes it.
    /// </summary>
    private static (string? Pid, long Offset) Recovering(ReadOnlyMemory<byte> auth)
    {
        if (auth.IsEmpty)
        {
            return (null, 0);
        }

        using var document = JsonDocument.Parse(auth);
        var root = document.RootElement;
        if (!root.TryGetProperty("pid"u8, out var pid) || pid.ValueKind != JsonValueKind.String)
        {
            return (null, 0);
        }

        if (!root.TryGetProperty("offset"u8, out var offset))
        {
            return (pid.GetString(), 0);
        }

        return offset.ValueKind == JsonValueKind.String
            && long.TryParse(offset.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
            ? (pid.GetString(), seq)
            : (null, 0);
    }

    private async Task ServeAsync(DefaultConnectionContext connection)
    {
        // When the hub aborts the connection (a socket too slow), its reads end, and so does the connection.
        using var aborted = connection.ConnectionClosed.Register(() => _toHub.Reader.CancelPendingRead());
        try
        {
            await _server.Handler.OnConnectedAsync(connection);
        }
        catch (Exception ex)
        {
            LogHubFailed(_server.Logger, ex, connection.ConnectionId);
        }
        finally
        {
            await _fromHub.Writer.CompleteAsync();
        }
    }

    /// <summary>What the hub writes, one WebSocket message per record; when the hub is done, the WebSocket closes.</summary>
    private async Task PumpAsync()
    {
        try
        {
            while (true)
            {
                var result = await _fromHub.Reader.ReadAsync();
                var buffer = result.Buffer;
                while (buffer.PositionOf(SocketIoHubProtocol.Separator) is { } end)
                {
                    var record = buffer.Slice(0, end);
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                    if (!record.IsEmpty)
                    {
                        await SendAsync(record.IsSingleSegment ? record.First : record.ToArray());
                    }
                }

                _fromHub.Reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            await _abort.CancelAsync(); // the client is gone: so is the rest of the connection
        }
        finally
        {
            await _fromHub.Reader.CompleteAsync();
            BeginClose(WebSocketCloseStatus.NormalClosure, "The server ended the socket.");
        }
    }

    /// <summary>An EVENT: a virtual request goes to the hub as an invocation of <c>Request</c>; any other event is answered 400 when it asks an ack.</summary>
    private async ValueTask<bool> OnEventAsync(SocketIoPacket packet)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(packet.Data);
        }
        catch (JsonException ex)
        {
            return Refuse(WebSocketCloseStatus.InvalidPayloadData, $"An EVENT's payload is not JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() == 0 || root[0].ValueKind != JsonValueKind.String)
            {
                return Refuse(WebSocketCloseStatus.InvalidPayloadData, "An EVENT's payload must be a JSON array that starts with the event's name.");
            }

            var name = root[0].GetString()!;
            if (Array.IndexOf(Methods, name) < 0)
            {
                if (!packet.AckId.IsEmpty)
                {
                    LogUnknownEvent(_server.Logger, _socketId!, name);
                    var answer = VirtualRequests.SocketResponse.Error(StatusCodes.Status400BadRequest, $"Event '{Clip(name)}' is not served here: send a virtual request (get, post, put, patch or delete).");
                    await SendAsync(_server.Protocol.GetMessageBytes(new Microsoft.AspNetCore.SignalR.Protocol.CompletionMessage(Encoding.ASCII.GetString(packet.AckId.Span), null, answer, hasResult: true)).TrimEnd(SocketIoHubProtocol.Separator));
                }

                return true;
            }

            WriteRequest(name, packet.AckId.Span, root.GetArrayLength() > 1 ? root[1] : null);
        }

        await _toHub.Writer.FlushAsync(_abort.Token);
        return true;
    }

    /// <summary>
    /// Hub method <c>Request</c> in SignalR's JSON protocol, the envelope's values as the client sent them and its
    /// method the event's name (as sails-hook-sockets takes it).
    /// </summary>
    private void WriteRequest(string method, ReadOnlySpan<byte> ackId, JsonElement? envelope)
    {
        using (var writer = new Utf8JsonWriter(_toHub.Writer, new JsonWriterOptions { SkipValidation = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("type", 1);
            if (!ackId.IsEmpty)
            {
                writer.WriteString("invocationId", ackId);
            }

            writer.WriteString("target", "Request");
            writer.WriteStartArray("arguments");
            if (envelope is { ValueKind: JsonValueKind.Object } request)
            {
                writer.WriteStartObject();
                writer.WriteString("method", method);
                foreach (var property in request.EnumerateObject())
                {
                    if (!property.NameEquals("method"u8))
                    {
                        writer.WritePropertyName(property.Name);
                        writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(property.Value), skipInputValidation: true);
                    }
                }

                writer.WriteEndObject();
            }
            else if (envelope is { } other)
            {
                writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(other), skipInputValidation: true); // the bridge answers 400
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        _toHub.Writer.Write([SocketIoHubProtocol.Separator]);
    }

    /// <summary>Pings every <see cref="SocketIoOptions.PingInterval"/>; cuts a client that misses a pong, or that never sends its CONNECT.</summary>
    private async Task PingAsync()
    {
        var options = _server.Options;
        var started = _server.Time.GetTimestamp();
        try
        {
            while (true)
            {
                var untilPing = options.PingInterval;
                if (_socketId is null)
                {
                    var untilConnect = options.ConnectTimeout - _server.Time.GetElapsedTime(started);
                    if (untilConnect <= TimeSpan.Zero)
                    {
                        LogNoConnect(_server.Logger, options.ConnectTimeout);
                        await _abort.CancelAsync();
                        return;
                    }

                    untilPing = untilPing < untilConnect ? untilPing : untilConnect;
                }

                await Task.Delay(untilPing, _server.Time, _abort.Token);
                if (_socketId is null && _server.Time.GetElapsedTime(started) >= options.ConnectTimeout)
                {
                    continue; // cut above
                }

                _pong.Wait(0);
                await SendAsync(Ping);
                if (!await _pong.WaitAsync(options.PingTimeout, _abort.Token))
                {
                    LogPingTimeout(_server.Logger, _socketId ?? "-", options.PingTimeout);
                    await _abort.CancelAsync();
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // The connection ended.
        }
    }

    private async Task SendAsync(ReadOnlyMemory<byte> message)
    {
        await _sending.WaitAsync(_abort.Token);
        try
        {
            await _ws.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, _abort.Token);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Closes the connection for a packet it cannot take, saying why; false, for the receive loop to stop.</summary>
    private bool Refuse(WebSocketCloseStatus status, string reason)
    {
        _leaving = true;
        LogRefused(_server.Logger, _socketId ?? "-", reason);
        BeginClose(status, reason);
        return false;
    }

    /// <summary>Sends the WebSocket's close once; a client that does not answer it within <see cref="CloseGrace"/> is cut.</summary>
    private void BeginClose(WebSocketCloseStatus status, string reason)
    {
        lock (_closeLock)
        {
            _closing ??= CloseAsync(status, reason);
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        _abort.CancelAfter(CloseGrace);
        try
        {
            await _sending.WaitAsync(_abort.Token);
            try
            {
                if (_ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await _ws.CloseOutputAsync(status, Clip(reason), _abort.Token);
                }
            }
            finally
            {
                _sending.Release();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // Gone already.
        }
    }

    /// <summary>
    /// The close handshake's end: what the client still sends is read and dropped until its close comes (or
    /// <see cref="CloseGrace"/> passes), so that the server's close reaches it before the TCP connection ends.
    /// </summary>
    private async Task AwaitCloseAsync()
    {
        var scratch = new byte[256];
        try
        {
            while (_ws.State == WebSocketState.CloseSent && (await _ws.ReceiveAsync(scratch.AsMemory(), _abort.Token)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // Gone, or did not answer in time.
        }
    }

    /// <summary>A close reason fits in 123 bytes of UTF-8.</summary>
    private static string Clip(string text) => Encoding.UTF8.GetByteCount(text) <= 123 ? text : text[..Math.Min(text.Length, 40)] + "…";

    private static ReadOnlyMemory<byte> Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c = default, ReadOnlySpan<byte> d = default)
    {
        var result = new ArrayBufferWriter<byte>(a.Length + b.Length + c.Length + d.Length);
        result.Write(a);
        result.Write(b);
        result.Write(c);
        result.Write(d);
        return result.WrittenMemory;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    [LoggerMessage(1, LogLevel.Debug, "A socket.io connection (socket {SocketId}) was closed: {Reason}")]
    private static partial void LogRefused(ILogger logger, string socketId, string reason);

    [LoggerMessage(2, LogLevel.Debug, "A socket.io connection sent no CONNECT within {Timeout} (Rooms:SocketIo:ConnectTimeout) and was cut.")]
    private static partial void LogNoConnect(ILogger logger, TimeSpan timeout);

    [LoggerMessage(3, LogLevel.Debug, "Socket.io socket {SocketId} missed a pong for {Timeout} (Rooms:SocketIo:PingTimeout) and was cut.")]
    private static partial void LogPingTimeout(ILogger logger, string socketId, TimeSpan timeout);

    [LoggerMessage(4, LogLevel.Debug, "Socket.io socket {SocketId} sent event '{EventName}', which is not served (only Sails' virtual requests are).")]
    private static partial void LogUnknownEvent(ILogger logger, string socketId, string eventName);

    [LoggerMessage(5, LogLevel.Warning, "The hub failed socket.io socket {SocketId}.")]
    private static partial void LogHubFailed(ILogger logger, Exception exception, string socketId);
}
