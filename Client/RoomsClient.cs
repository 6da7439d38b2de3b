using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;

namespace Orleans.Rooms.Client;

/// <summary>
/// A socket of an Orleans.Rooms front end (the .NET counterpart of sails.io.js' <c>io.socket</c>): sends
/// virtual requests to the app's routes (<see cref="RequestAsync"/>, <see cref="GetAsync"/>,
/// <see cref="PostAsync"/>, ...) and receives the events broadcast to its rooms (<see cref="On{T}(string, Action{T})"/>).
/// A dropped connection is connected again by itself and resumes the same socket (same <see cref="SocketId"/>,
/// same rooms, the events sent meanwhile delivered once and in order) when it comes back within the server's
/// resume window; past it, it is a new socket with no rooms (<see cref="Replaced"/>). Handlers stay registered.
/// </summary>
public sealed class RoomsClient : IAsyncDisposable
{
    private readonly RoomsConnection _connection;
    private readonly TimeSpan _requestTimeout;
    private readonly Dictionary<string, RoomsPresence> _presence = new(StringComparer.Ordinal);

    /// <summary>A client of the front end at <paramref name="baseAddress"/> (e.g. <c>http://127.0.0.1:5000</c>); not connected yet.</summary>
    public RoomsClient(Uri baseAddress, RoomsClientOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        options ??= new RoomsClientOptions();
        _requestTimeout = options.RequestTimeout;
        _connection = new RoomsConnection(baseAddress, options, loggerFactory);
        _connection.Reconnecting += error => Reconnecting?.Invoke(error) ?? Task.CompletedTask;
        _connection.Reconnected += async (id, resumed) =>
        {
            if (resumed)
            {
                await (Resumed?.Invoke(id) ?? Task.CompletedTask);
            }
            else
            {
                await (Replaced?.Invoke(id) ?? Task.CompletedTask);
            }

            await (Reconnected?.Invoke(id) ?? Task.CompletedTask);
        };
        _connection.Closed += error => Closed?.Invoke(error) ?? Task.CompletedTask;
    }

    /// <summary>The connection dropped and the client is connecting again; requests made meanwhile wait for it.</summary>
    public event Func<Exception?, Task>? Reconnecting;

    /// <summary>
    /// The client is connected again, as the socket whose id is given: the same <see cref="SocketId"/> when the
    /// socket was resumed (<see cref="Resumed"/> was raised just before), a new one when it was not
    /// (<see cref="Replaced"/> was raised just before).
    /// </summary>
    public event Func<string?, Task>? Reconnected;

    /// <summary>
    /// The connection came back within the server's resume window as the same socket: same id, same rooms, and the
    /// events sent meanwhile are handed to the handlers (once each, in order) before newer ones.
    /// </summary>
    public event Func<string, Task>? Resumed;

    /// <summary>
    /// The connection came back as a fresh socket (the window passed, the socket was closed as too slow, or another
    /// front end answered): a new <see cref="SocketId"/>, no rooms, and events sent to the old socket after it
    /// was dropped are lost. Join again what the app needs here.
    /// </summary>
    public event Func<string, Task>? Replaced;

    /// <summary>The connection is closed and will not be connected again by itself.</summary>
    public event Func<Exception?, Task>? Closed;

    /// <summary>
    /// The id of this socket on the front end (its own room's name), or null while not connected. A resumed socket
    /// keeps its id, though its SignalR connection is a new one.
    /// </summary>
    public string? SocketId => _connection.SocketId;

    /// <summary>Whether the client is connected now.</summary>
    public bool IsConnected => _connection.IsConnected;

    /// <summary>The server's resume window, as it said on the last connect (zero for a client that is not <see cref="RoomsClientOptions.Resumable"/>).</summary>
    public TimeSpan ResumeWindow => _connection.ResumeWindow;

    /// <summary>Connects a new client to the front end at <paramref name="baseAddress"/>.</summary>
    public static async Task<RoomsClient> ConnectAsync(Uri baseAddress, RoomsClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        var client = new RoomsClient(baseAddress, options);
        try
        {
            await client.ConnectAsync(cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Connects to the front end; throws when it cannot be reached.</summary>
    public Task ConnectAsync(CancellationToken cancellationToken = default) => _connection.StartAsync(cancellationToken);

    /// <summary>
    /// Sends a virtual request (docs/protocol.md) and returns the answer, whatever its status code. A request made
    /// while the client reconnects waits for the new connection.
    /// </summary>
    /// <param name="method">GET, POST, PUT, PATCH or DELETE.</param>
    /// <param name="path">A path on the front end, with an optional query: <c>/funRoomSubscribers?roomName=fun</c>.</param>
    /// <param name="data">The body, serialized as JSON; its properties are request parameters too.</param>
    /// <param name="headers">Request headers.</param>
    /// <param name="cancellationToken">Stops waiting for the answer (the request may still have run).</param>
    public async Task<RoomsResponse> RequestAsync(string method, string path, object? data = null, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(method);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var envelope = await InvokeRequestAsync(new RequestEnvelope(method, path, data, headers), cancellationToken);
        return RoomsResponse.Parse(envelope);
    }

    /// <summary>GET <paramref name="path"/>; <paramref name="data"/> becomes request parameters.</summary>
    public Task<RoomsResponse> GetAsync(string path, object? data = null, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
        => RequestAsync("GET", path, data, headers, cancellationToken);

    /// <summary>POST <paramref name="data"/> to <paramref name="path"/>.</summary>
    public Task<RoomsResponse> PostAsync(string path, object? data = null, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
        => RequestAsync("POST", path, data, headers, cancellationToken);

    /// <summary>PUT <paramref name="data"/> to <paramref name="path"/>.</summary>
    public Task<RoomsResponse> PutAsync(string path, object? data = null, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
        => RequestAsync("PUT", path, data, headers, cancellationToken);

    /// <summary>PATCH <paramref name="path"/> with <paramref name="data"/>.</summary>
    public Task<RoomsResponse> PatchAsync(string path, object? data = null, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
        => RequestAsync("PATCH", path, data, headers, cancellationToken);

    /// <summary>DELETE <paramref name="path"/>.</summary>
    public Task<RoomsResponse> DeleteAsync(string path, object? data = null, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
        => RequestAsync("DELETE", path, data, headers, cancellationToken);

    /// <summary>
    /// Calls <paramref name="handler"/> with the payload of each event <paramref name="eventName"/> sent to
    /// this socket (a broadcast to one of its rooms, a blast), until the returned handle is disposed.
    /// The handler stays registered when the client reconnects.
    /// </summary>
    public IDisposable On<T>(string eventName, Action<T> handler)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        ArgumentNullException.ThrowIfNull(handler);
        return _connection.On<T>(eventName, payload =>
        {
            handler(payload);
            return Task.CompletedTask;
        });
    }

    /// <summary>As <see cref="On{T}(string, Action{T})"/>, with an asynchronous handler: the next event waits for it.</summary>
    public IDisposable On<T>(string eventName, Func<T, Task> handler)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        ArgumentNullException.ThrowIfNull(handler);
        return _connection.On(eventName, handler);
    }

    /// <summary>
    /// Who is in <paramref name="room"/> (docs/presence.md): one view per room, kept in step from the state this
    /// socket is sent when it tracks and the room's diffs; <see cref="RoomsPresence.SyncAsync"/> fetches the state
    /// without tracking, from <paramref name="listPath"/> (the example app's route by default).
    /// </summary>
    public RoomsPresence Presence(string room, string listPath = "/presence/list")
    {
        ArgumentException.ThrowIfNullOrEmpty(room);
        lock (_presence)
        {
            if (_presence.Count == 0)
            {
                On<JsonElement>("presence_state", e => OfRoom(e)?.ApplyState(e.GetProperty("state"), e.TryGetProperty("version", out var v) ? v.GetString() : null));
                On<JsonElement>("presence_diff", e => OfRoom(e)?.OnDiff(e));
                Replaced += _ =>
                {
                    lock (_presence)
                    {
                        foreach (var view in _presence.Values)
                        {
                            view.Reset();
                        }
                    }

                    return Task.CompletedTask;
                };
            }

            if (!_presence.TryGetValue(room, out var presence))
            {
                _presence[room] = presence = new RoomsPresence(this, room, listPath);
            }

            return presence;
        }
    }

    private RoomsPresence? OfRoom(JsonElement presenceEvent)
    {
        var room = presenceEvent.TryGetProperty("room", out var r) ? r.GetString() : null;
        lock (_presence)
        {
            return room is not null ? _presence.GetValueOrDefault(room) : null;
        }
    }

    /// <summary>
    /// Closes the connection; the socket leaves all its rooms at once (a resumable socket tells the server first,
    /// so it is not held for a resume). The client can be connected again, as a new socket.
    /// </summary>
    public Task DisconnectAsync(CancellationToken cancellationToken = default) => _connection.StopAsync(cancellationToken);

    /// <summary>Closes the connection as <see cref="DisconnectAsync"/> does and releases the client.</summary>
    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    /// <summary>The underlying connection, for tests that look at its state.</summary>
    internal HubConnection Hub => _connection.Hub ?? throw new InvalidOperationException("Not connected yet.");

    /// <summary>Sends any value as the request envelope, for tests of what the server does with malformed ones.</summary>
    internal async Task<RoomsResponse> RawRequestAsync(object? envelope, CancellationToken cancellationToken = default)
        => RoomsResponse.Parse(await InvokeRequestAsync(envelope, cancellationToken));

    private async Task<JsonElement> InvokeRequestAsync(object? envelope, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_requestTimeout);
        try
        {
            return await _connection.InvokeAsync("Request", envelope, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No answer to the request within {_requestTimeout} (RoomsClientOptions.RequestTimeout).");
        }
    }

    /// <summary>The request envelope of docs/protocol.md.</summary>
    private sealed record RequestEnvelope(
        [property: JsonPropertyName("method")] string Method,
        [property: JsonPropertyName("url")] string Url,
        [property: JsonPropertyName("data"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? Data,
        [property: JsonPropertyName("headers"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Headers);
}
