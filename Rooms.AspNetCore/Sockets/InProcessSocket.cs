using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// A socket of this front end that lives in its own process: its connection is a pair of in-memory pipes that
/// the hub's own connection handler serves as it serves a WebSocket (handshake, JSON hub protocol, the lifetime
/// manager's registration in the cluster, <c>Request</c> through the app's pipeline, events written back). No
/// port, origin or per-address limit is involved. Made for a warm-up at start (so the JIT has compiled what a
/// request runs before the first client sends one) and for tests; dispose it to disconnect.
/// </summary>
public sealed class InProcessSocket : IAsyncDisposable
{
    private const string Protocol = "json";

    private readonly Pipe _toServer = new();
    private readonly Pipe _toClient = new();
    private readonly IHubProtocol _protocol;
    private readonly Binder _binder = new();
    private readonly Channel<(string Event, JsonElement Payload)> _events = Channel.CreateUnbounded<(string, JsonElement)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly SemaphoreSlim _writing = new(1, 1);
    private Task _served = Task.CompletedTask;
    private Task _reading = Task.CompletedTask;
    private long _nextInvocation;

    private InProcessSocket(IHubProtocol protocol, string id)
    {
        _protocol = protocol;
        Id = id;
    }

    /// <summary>The socket's id, as a client's negotiation would report it.</summary>
    public string Id { get; }

    /// <summary>How many requests the socket has sent.</summary>
    internal long RequestsSent => Interlocked.Read(ref _nextInvocation);

    /// <summary>
    /// Connects a new socket to this front end's hub (<c>MapRooms</c>) and completes once the hub has answered
    /// its handshake. The hub runs its first request only once the socket is registered in the cluster.
    /// </summary>
    public static async Task<InProcessSocket> ConnectAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var handler = services.GetRequiredService<HubConnectionHandler<SocketHub>>();
        var socket = new InProcessSocket(JsonProtocol(services), SocketIds.New());
        var connection = new DefaultConnectionContext(socket.Id, new Duplex(socket._toServer.Reader, socket._toClient.Writer), new Duplex(socket._toClient.Reader, socket._toServer.Writer));
        socket._served = socket.ServeAsync(handler, connection);
        return await socket.HandshakeAsync("in-process socket", cancellationToken);
    }

    /// <summary>
    /// Connects a new socket to this front end's hub as a client does, over loopback: negotiation over HTTP, then a
    /// WebSocket to <paramref name="server"/> (its origin, e.g. <c>http://127.0.0.1:5000</c>) at
    /// <paramref name="hubPath"/>, so Kestrel, SignalR's transport and the negotiation run too. Completes once the hub
    /// has answered its handshake. Made for the warm-up at start (<see cref="WarmUp.StartupWarmUp"/>).
    /// </summary>
    internal static async Task<InProcessSocket> ConnectOverLoopbackAsync(IServiceProvider services, Uri server, string hubPath = "/sockets", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        var protocol = JsonProtocol(services);
        using var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(10) };
        using var negotiation = await http.PostAsync($"{hubPath}/negotiate?negotiateVersion=1", content: null, cancellationToken);
        negotiation.EnsureSuccessStatusCode();
        using var answer = JsonDocument.Parse(await negotiation.Content.ReadAsStreamAsync(cancellationToken));
        var id = answer.RootElement.GetProperty("connectionId").GetString()!;
        var token = answer.RootElement.GetProperty("connectionToken").GetString()!;
        var webSocket = new ClientWebSocket();
        try
        {
            var ws = new UriBuilder(server) { Scheme = server.Scheme == Uri.UriSchemeHttps ? "wss" : "ws", Path = hubPath, Query = "id=" + Uri.EscapeDataString(token) }.Uri;
            await webSocket.ConnectAsync(ws, cancellationToken);
        }
        catch
        {
            webSocket.Dispose();
            throw;
        }

        var socket = new InProcessSocket(protocol, id);
        socket._served = socket.PumpAsync(webSocket);
        return await socket.HandshakeAsync("loopback socket", cancellationToken);
    }

    private static IHubProtocol JsonProtocol(IServiceProvider services)
        => services.GetRequiredService<IHubProtocolResolver>().GetProtocol(Protocol, null)
            ?? throw new InvalidOperationException("The hub has no JSON protocol, which an in-process socket speaks.");

    /// <summary>The hub's handshake over the socket's transport (already started); then its reads. Disposed when it fails.</summary>
    private async Task<InProcessSocket> HandshakeAsync(string what, CancellationToken cancellationToken)
    {
        try
        {
            await HubHandshake.RunAsync(_toServer.Writer, _toClient.Reader, _protocol, what, cancellationToken);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }

        _reading = ReadAsync();
        return this;
    }

    /// <summary>Sends a request envelope (docs/protocol.md) and returns the answer, as hub method <c>Request</c> does for any socket.</summary>
    public async Task<SocketResponse> RequestAsync(string method, string url, object? data = null, CancellationToken cancellationToken = default)
    {
        var id = Interlocked.Increment(ref _nextInvocation).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var answer = _binder.Expect(id);
        await _writing.WaitAsync(cancellationToken);
        try
        {
            _protocol.WriteMessage(new InvocationMessage(id, nameof(SocketHub.Request), [new { method, url, data }]), _toServer.Writer);
            await _toServer.Writer.FlushAsync(cancellationToken);
        }
        finally
        {
            _writing.Release();
        }

        return await answer.WaitAsync(cancellationToken);
    }

    /// <summary>The next event the socket received (its name and payload), in the order the hub wrote them.</summary>
    public ValueTask<(string Event, JsonElement Payload)> ReceiveAsync(CancellationToken cancellationToken = default)
        => _events.Reader.ReadAsync(cancellationToken);

    /// <summary>Disconnects: the hub sees the connection end, as when a client goes, and unregisters the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        await _writing.WaitAsync();
        try
        {
            await _toServer.Writer.CompleteAsync();
        }
        finally
        {
            _writing.Release();
        }

        await _served;
        await _reading;
        await _toClient.Reader.CompleteAsync();
        _binder.Fail(new ConnectionAbortedException("The in-process socket is closed."));
        _events.Writer.TryComplete();
    }

    // The transport's part: when the hub aborts the connection (a socket too slow, say) its reads end, and when
    // the hub is done with the connection, the socket's reads end too.
    private async Task ServeAsync(HubConnectionHandler<SocketHub> handler, DefaultConnectionContext connection)
    {
        using var aborted = connection.ConnectionClosed.Register(() => _toServer.Reader.CancelPendingRead());
        Exception? error = null;
        try
        {
            await handler.OnConnectedAsync(connection);
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            await _toClient.Writer.CompleteAsync(error);
        }
    }

    // The transport's part over a WebSocket: what the socket writes goes out as text frames, what arrives is the
    // hub's side; the hub's close (or this socket's) ends both.
    private async Task PumpAsync(ClientWebSocket webSocket)
    {
        using var _ = webSocket;
        var sending = SendAsync(webSocket);
        Exception? error = null;
        try
        {
            while (true)
            {
                var memory = _toClient.Writer.GetMemory(4096);
                var received = await webSocket.ReceiveAsync(memory, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                _toClient.Writer.Advance(received.Count);
                if (received.EndOfMessage)
                {
                    await _toClient.Writer.FlushAsync();
                }
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            await _toClient.Writer.CompleteAsync(error);
            _toServer.Reader.CancelPendingRead();
            await sending;
        }
    }

    private async Task SendAsync(ClientWebSocket webSocket)
    {
        try
        {
            while (true)
            {
                var result = await _toServer.Reader.ReadAsync();
                foreach (var segment in result.Buffer)
                {
                    await webSocket.SendAsync(segment, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                }

                _toServer.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            if (webSocket.State == WebSocketState.Open)
            {
                await webSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        catch (Exception)
        {
            webSocket.Abort(); // the receive side ends with it
        }
        finally
        {
            await _toServer.Reader.CompleteAsync();
        }
    }

    // Until the hub completes its side: completions to their requests, events to the channel.
    private async Task ReadAsync()
    {
        Exception closed = new ConnectionAbortedException("The hub closed the in-process socket.");
        try
        {
            while (true)
            {
                var result = await _toClient.Reader.ReadAsync();
                var buffer = result.Buffer;
                while (_protocol.TryParseMessage(ref buffer, _binder, out var message))
                {
                    switch (message)
                    {
                        case CompletionMessage completion:
                            _binder.Complete(completion);
                            break;
                        case InvocationMessage { Arguments: [JsonElement payload] } invocation:
                            _events.Writer.TryWrite((invocation.Target, payload));
                            break;
                    }
                }

                _toClient.Reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            closed = new ConnectionAbortedException("The hub failed the in-process socket.", ex);
        }
        finally
        {
            _binder.Fail(closed);
            _events.Writer.TryComplete();
        }
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>Tells the protocol the types to read: answers to requests, and one JSON payload per event.</summary>
    private sealed class Binder : IInvocationBinder
    {
        private static readonly Type[] EventArguments = [typeof(JsonElement)];
        private readonly Dictionary<string, TaskCompletionSource<SocketResponse>> _pending = new(StringComparer.Ordinal);
        private Exception? _failed;

        public Task<SocketResponse> Expect(string invocationId)
        {
            var answer = new TaskCompletionSource<SocketResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_pending)
            {
                if (_failed is not null)
                {
                    answer.SetException(_failed);
                }
                else
                {
                    _pending.Add(invocationId, answer);
                }
            }

            return answer.Task;
        }

        public void Complete(CompletionMessage completion)
        {
            TaskCompletionSource<SocketResponse>? answer;
            lock (_pending)
            {
                _pending.Remove(completion.InvocationId!, out answer);
            }

            if (completion.Error is { } error)
            {
                answer?.TrySetException(new InvalidOperationException($"The hub answered the in-process socket with an error: {error}"));
            }
            else
            {
                answer?.TrySetResult((SocketResponse)completion.Result!);
            }
        }

        public void Fail(Exception error)
        {
            lock (_pending)
            {
                _failed ??= error;
                foreach (var answer in _pending.Values)
                {
                    answer.TrySetException(error);
                }

                _pending.Clear();
            }
        }

        public Type GetReturnType(string invocationId) => typeof(SocketResponse);

        public IReadOnlyList<Type> GetParameterTypes(string methodName) => EventArguments;

        public Type GetStreamItemType(string streamId) => throw new NotSupportedException("An in-process socket takes no streams.");
    }
}
