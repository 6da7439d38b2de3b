using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Orleans.Rooms.Client;

/// <summary>
/// The one place that owns the SignalR connection: how it is built, started, and connected again when it
/// drops, and when it can take a request. Everything above it (requests, event handlers) only asks it to
/// invoke or to listen; handlers registered here stay registered across reconnects.
/// </summary>
/// <remarks>
/// A resumable connection (the default) follows the resume contract of the README ("Resuming after a blip"):
/// it connects with <c>?resumable=2</c> (version 2 of the contract), takes the socket id and resume token from
/// <c>rooms.attached</c>, hands each <c>rooms.event(seq, name, data, id)</c> to the handlers of <c>name</c> once
/// (a seq already processed is skipped, and so is an event whose broadcast id it processed lately), acknowledges
/// with <c>Ack(seq)</c>, and when the connection drops connects again with
/// <c>?resume=&lt;token&gt;&amp;seq=&lt;last&gt;&amp;v=2</c> until it works: the same socket within the server's
/// window, on whichever front end of the cluster it reaches; a fresh one (rooms gone) past it. SignalR's own
/// automatic reconnect is not used: it cannot resume.
/// </remarks>
internal sealed class RoomsConnection : IAsyncDisposable
{
    private const int AckEvery = 64;

    /// <summary>How much longer than the server's window the ids of processed events are remembered (a crash is noticed late, a resume comes late).</summary>
    private const long ProcessedIdsMarginMs = 30_000;

    private static readonly TimeSpan AckInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FastRetryCap = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan DisconnectTimeout = TimeSpan.FromSeconds(2);
    private static readonly JsonSerializerOptions PayloadOptions = new(JsonSerializerDefaults.Web);

    /// <summary>The query names the client sets itself (the resume contract's, SignalR's), which the app's may not be.</summary>
    private static readonly string[] OwnQueryNames = ["resumable", "resume", "seq", "v", "id", "negotiateVersion"];

    private readonly Uri _hubAddress;
    private readonly string _connectionQuery;
    private readonly Dictionary<string, string> _connectionHeaders;
    private readonly RoomsClientOptions _options;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly Dictionary<string, List<Handler>> _handlers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _dispatching = new(1, 1);
    private TaskCompletionSource _connected = NewSignal();
    private HubConnection? _hub;
    private HubConnection? _closedHub;
    private CancellationTokenSource _running = new();
    private Task _reconnecting = Task.CompletedTask;
    private Timer? _ackTimer;
    private bool _started;
    private string? _socketId;
    private string? _token;
    private long _windowMs;
    private long _lastSeq;
    private long _lastAcked;

    // The broadcast ids of the events processed lately (resume contract version 2): a resume handed over from the
    // cluster's record, after the socket's front end died, may bring some again; they are skipped.
    private readonly HashSet<string> _processed = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, long At)> _processedOrder = new();

    public RoomsConnection(Uri baseAddress, RoomsClientOptions options, ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        _hubAddress = new Uri(baseAddress, options.HubPath);
        _connectionQuery = ConnectionQueryOf(options.ConnectionQuery);
        _connectionHeaders = new Dictionary<string, string>(options.ConnectionHeaders ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in _connectionHeaders)
        {
            if (string.IsNullOrWhiteSpace(name) || value is null)
            {
                throw new ArgumentException($"RoomsClientOptions.ConnectionHeaders: header '{name}' needs a name and a value (was '{value}').", nameof(options));
            }
        }

        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory?.CreateLogger<RoomsClient>() ?? NullLogger<RoomsClient>.Instance;
    }

    /// <summary>Raised when the connection dropped and the client connects again.</summary>
    public event Func<Exception?, Task>? Reconnecting;

    /// <summary>Raised when connected again: the socket id, and whether it is the same socket (resumed).</summary>
    public event Func<string, bool, Task>? Reconnected;

    /// <summary>Raised when the connection is closed and will not be connected again by itself.</summary>
    public event Func<Exception?, Task>? Closed;

    /// <summary>The current SignalR connection (for tests), or null before the first connect.</summary>
    public HubConnection? Hub
    {
        get
        {
            lock (_gate)
            {
                return _hub;
            }
        }
    }

    /// <summary>The socket id: the logical one of a resumable socket (kept across resumes), else the connection id.</summary>
    public string? SocketId
    {
        get
        {
            lock (_gate)
            {
                return _connected.Task.IsCompletedSuccessfully ? _socketId : null;
            }
        }
    }

    public bool IsConnected
    {
        get
        {
            lock (_gate)
            {
                return _connected.Task.IsCompletedSuccessfully && _hub?.State == HubConnectionState.Connected;
            }
        }
    }

    /// <summary>The server's resume window as it last said (zero for a plain connection).</summary>
    public TimeSpan ResumeWindow => TimeSpan.FromMilliseconds(Interlocked.Read(ref _windowMs));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        CancellationToken running;
        lock (_gate)
        {
            if (_started)
            {
                throw new InvalidOperationException("The client is connected or connecting already.");
            }

            _started = true;
            _running = new CancellationTokenSource();
            running = _running.Token;
            _token = null;
            _socketId = null;
            _lastSeq = 0;
            _lastAcked = 0;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, running);
        try
        {
            await AttachAsync(_options.Resumable ? "resumable=2" : null, linked.Token);
        }
        catch
        {
            lock (_gate)
            {
                _started = false;
            }

            throw;
        }

        if (_options.Resumable)
        {
            _ackTimer ??= new Timer(_ => _ = AckAsync(force: true), null, AckInterval, AckInterval);
        }
    }

    /// <summary>
    /// Invokes a hub method once the connection is up: at once when it is, after the reconnect when it is
    /// reconnecting, and never when it was closed for good (then it throws rather than wait forever).
    /// </summary>
    public async Task<JsonElement> InvokeAsync(string method, object? argument, CancellationToken cancellationToken)
    {
        Task connected;
        lock (_gate)
        {
            if (!_started)
            {
                throw new InvalidOperationException("The client is not connected: call ConnectAsync first (a closed client does not connect again by itself).");
            }

            connected = _connected.Task;
        }

        await connected.WaitAsync(cancellationToken);
        HubConnection hub;
        lock (_gate)
        {
            hub = _hub!;
        }

        return await hub.InvokeAsync<JsonElement>(method, argument, cancellationToken);
    }

    /// <summary>Registers a handler of event <paramref name="eventName"/>; the payload arrives as JSON.</summary>
    public IDisposable On(string eventName, Func<JsonElement, Task> handler)
    {
        var entry = new Handler(handler);
        HubConnection? plainHub = null;
        lock (_gate)
        {
            if (!_handlers.TryGetValue(eventName, out var list))
            {
                _handlers[eventName] = list = [];
                plainHub = _options.Resumable ? null : _hub;
            }

            list.Add(entry);
        }

        if (plainHub is not null)
        {
            ListenPlain(plainHub, eventName);
        }

        return new Subscription(() =>
        {
            lock (_gate)
            {
                if (_handlers.TryGetValue(eventName, out var list))
                {
                    list.Remove(entry);
                }
            }
        });
    }

    public IDisposable On<T>(string eventName, Func<T, Task> handler)
        => On(eventName, payload => handler(payload.Deserialize<T>(PayloadOptions)!));

    /// <summary>
    /// Leaves for good: a resumable socket tells the server with hub method <c>Disconnect()</c> first, so that
    /// it ends at once (leaving its rooms) instead of being held for a resume; then the connection closes.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        HubConnection? hub;
        Task reconnecting;
        lock (_gate)
        {
            if (!_started)
            {
                return;
            }

            _started = false;
            _running.Cancel();
            hub = _hub;
            reconnecting = _reconnecting;
        }

        try
        {
            await reconnecting.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Stopped while reconnecting: nothing to wait for.
        }

        lock (_gate)
        {
            hub = _hub;
        }

        if (hub is not null)
        {
            if (_options.Resumable && hub.State == HubConnectionState.Connected)
            {
                try
                {
                    await hub.InvokeAsync("Disconnect", cancellationToken).WaitAsync(DisconnectTimeout, cancellationToken);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // The server closes the connection as it ends the socket; the completion may never be read.
                }
            }

            await hub.StopAsync(cancellationToken);
        }

        Fail(new InvalidOperationException("The connection was closed and is not being connected again."));
        await RaiseAsync(Closed, null);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            _logger.LogDebug(ex, "Stopping the connection on dispose failed");
        }

        if (_ackTimer is not null)
        {
            await _ackTimer.DisposeAsync();
        }

        HubConnection? hub;
        lock (_gate)
        {
            hub = _hub;
        }

        if (hub is not null)
        {
            await hub.DisposeAsync();
        }
    }

    /// <summary>The app's <see cref="RoomsClientOptions.ConnectionQuery"/> as a query string, checked: names of its own, values given.</summary>
    private static string ConnectionQueryOf(IDictionary<string, string>? query)
    {
        var parts = new List<string>();
        foreach (var (name, value) in query ?? new Dictionary<string, string>())
        {
            if (string.IsNullOrEmpty(name) || value is null)
            {
                throw new ArgumentException($"RoomsClientOptions.ConnectionQuery: parameter '{name}' needs a name and a value (was '{value}').", "options");
            }

            if (OwnQueryNames.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"RoomsClientOptions.ConnectionQuery may not name '{name}': the client sets it itself (docs/protocol.md, \"Resuming\"; SignalR's own).", "options");
            }

            parts.Add($"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(value)}");
        }

        return string.Join('&', parts);
    }

    /// <summary>Builds and starts one connection and, when resumable, waits for its <c>rooms.attached</c>.</summary>
    private async Task<bool> AttachAsync(string? query, CancellationToken cancellationToken)
    {
        query = string.Join('&', new[] { query, _connectionQuery }.Where(q => !string.IsNullOrEmpty(q)));
        var address = query.Length == 0 ? _hubAddress : new UriBuilder(_hubAddress) { Query = query }.Uri;
        var builder = new HubConnectionBuilder()
            .WithUrl(address, _options.Transports, http =>
            {
                foreach (var (name, value) in _connectionHeaders)
                {
                    http.Headers[name] = value;
                }

                // SignalR asks it for this connection's token; each connect builds a new connection, so each asks again.
                http.AccessTokenProvider = _options.AccessTokenProvider;
                _options.ConfigureConnection?.Invoke(http);
            });
        if (_loggerFactory is not null)
        {
            builder.Services.AddSingleton(_loggerFactory);
        }

        var hub = builder.Build();
        var attached = new TaskCompletionSource<(string SocketId, bool Resumed)>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_options.Resumable)
        {
            hub.On<JsonElement>("rooms.attached", a => attached.TrySetResult(OnAttached(a)));
            hub.On<long, string, JsonElement, string>("rooms.event", (seq, name, data, id) => OnEventAsync(hub, seq, name, data, id));

            // The server stops and closes this connection next: the reconnect that follows resumes elsewhere.
            hub.On<JsonElement>("rooms.move", _ => Task.CompletedTask);
        }
        else
        {
            string[] names;
            lock (_gate)
            {
                names = [.. _handlers.Keys];
            }

            foreach (var name in names)
            {
                ListenPlain(hub, name);
            }
        }

        hub.Closed += error =>
        {
            attached.TrySetException(error ?? new InvalidOperationException("The connection closed before rooms.attached."));
            return OnClosedAsync(hub, error);
        };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(AttemptTimeout);
            await hub.StartAsync(timeout.Token);
            var (socketId, resumed) = _options.Resumable ? await attached.Task.WaitAsync(timeout.Token) : (hub.ConnectionId!, false);
            HubConnection? previous;
            lock (_gate)
            {
                previous = _hub;
                _hub = hub;
                _socketId = socketId;
                _connected.TrySetResult();
            }

            if (previous is not null && !ReferenceEquals(previous, hub))
            {
                _ = previous.DisposeAsync().AsTask();
            }

            if (hub.State == HubConnectionState.Disconnected)
            {
                // Closed between its start and becoming the current connection: its Closed was ignored then.
                _ = OnClosedAsync(hub, null);
            }

            return resumed;
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }
    }

    private (string SocketId, bool Resumed) OnAttached(JsonElement attached)
    {
        var socketId = attached.GetProperty("socketId").GetString()!;
        var resumed = attached.GetProperty("resumed").GetBoolean();
        lock (_gate)
        {
            _token = attached.GetProperty("resumeToken").GetString();
            Interlocked.Exchange(ref _windowMs, attached.TryGetProperty("windowMs", out var w) ? w.GetInt64() : 0);
            if (!resumed)
            {
                // A fresh socket: its events are numbered from 1 again.
                _lastSeq = 0;
                _lastAcked = 0;
                _processed.Clear();
                _processedOrder.Clear();
            }
        }

        return (socketId, resumed);
    }

    private async Task OnEventAsync(HubConnection hub, long seq, string eventName, JsonElement data, string id)
    {
        // One event at a time, across connections too: a resumed connection's replay waits for the handler
        // still running on the old one, so handlers see events in order.
        await _dispatching.WaitAsync();
        try
        {
            bool seen;
            lock (_gate)
            {
                if (seq <= _lastSeq)
                {
                    return; // already processed: a replay after a resume that overlapped
                }

                seen = _processed.Contains(id);
            }

            if (!seen)
            {
                await DispatchAsync(eventName, data);
            }

            bool ack;
            lock (_gate)
            {
                _lastSeq = seq;
                Remember(id);
                ack = _lastSeq - _lastAcked >= AckEvery;
            }

            if (ack)
            {
                _ = AckAsync(force: false);
            }
        }
        finally
        {
            _dispatching.Release();
        }
    }

    /// <summary>Notes a processed event's id, and forgets those older than the server's window and a margin (under <see cref="_gate"/>).</summary>
    private void Remember(string id)
    {
        var now = Environment.TickCount64;
        var keep = Interlocked.Read(ref _windowMs) + ProcessedIdsMarginMs;
        while (_processedOrder.TryPeek(out var oldest) && now - oldest.At > keep)
        {
            _processed.Remove(_processedOrder.Dequeue().Id);
        }

        if (_processed.Add(id))
        {
            _processedOrder.Enqueue((id, now));
        }
    }

    private void ListenPlain(HubConnection hub, string eventName)
        => hub.On(eventName, [typeof(JsonElement)], args => DispatchAsync(eventName, (JsonElement)args[0]!));

    private async Task DispatchAsync(string eventName, JsonElement data)
    {
        Handler[] handlers;
        lock (_gate)
        {
            handlers = _handlers.TryGetValue(eventName, out var list) ? [.. list] : [];
        }

        foreach (var handler in handlers)
        {
            try
            {
                await handler.Invoke(data);
            }
            catch (Exception ex)
            {
                // A failing handler neither stops the others nor the connection, as with SignalR's own handlers.
                _logger.LogError(ex, "A handler of event {EventName} failed", eventName);
            }
        }
    }

    private async Task AckAsync(bool force)
    {
        HubConnection? hub;
        long seq;
        lock (_gate)
        {
            hub = _hub;
            if (!_started || hub is null || _lastSeq <= _lastAcked || (!force && _lastSeq - _lastAcked < AckEvery) || hub.State != HubConnectionState.Connected)
            {
                return;
            }

            seq = _lastAcked = _lastSeq;
        }

        try
        {
            await hub.SendAsync("Ack", seq);
        }
        catch (Exception)
        {
            // The connection went; the resume's seq acknowledges instead.
        }
    }

    private async Task OnClosedAsync(HubConnection hub, Exception? error)
    {
        bool reconnect;
        var announced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (!ReferenceEquals(hub, _hub) || !_started || ReferenceEquals(hub, _closedHub))
            {
                return; // an old connection, closed on purpose (StopAsync reports that), or handled already
            }

            _closedHub = hub;
            reconnect = _options.AutomaticReconnect;
            if (reconnect)
            {
                if (_connected.Task.IsCompleted)
                {
                    _connected = NewSignal();
                }

                var running = _running.Token;
                _reconnecting = Task.Run(() => ReconnectAsync(announced.Task, running));
            }
            else
            {
                _started = false;
            }
        }

        if (reconnect)
        {
            try
            {
                await RaiseAsync(Reconnecting, error);
            }
            finally
            {
                announced.TrySetResult(); // the reconnect loop does not wait for it, only its Reconnected does
            }
        }
        else
        {
            Fail(new InvalidOperationException("The connection was closed and is not being connected again."));
            await RaiseAsync(Closed, error);
        }
    }

    /// <summary>
    /// Connects again until it works: a resume while the server may still hold the socket (quickly at first,
    /// then at most <see cref="FastRetryCap"/> apart until the window has clearly passed), then the configured
    /// pauses, the last one forever.
    /// </summary>
    private async Task ReconnectAsync(Task announced, CancellationToken running)
    {
        var since = Stopwatch.StartNew();
        var delays = _options.ReconnectDelays;
        for (var attempt = 0; !running.IsCancellationRequested; attempt++)
        {
            var delay = delays.Count == 0 ? TimeSpan.Zero : delays[Math.Min(attempt, delays.Count - 1)];
            if (_options.Resumable && since.Elapsed < ResumeWindow + TimeSpan.FromSeconds(5) && delay > FastRetryCap)
            {
                delay = FastRetryCap;
            }

            try
            {
                await Task.Delay(delay, running);
                string? query;
                string? before;
                lock (_gate)
                {
                    before = _socketId;
                    query = !_options.Resumable ? null
                        : _token is null ? "resumable=2"
                        : $"resume={Uri.EscapeDataString(_token)}&seq={_lastSeq}&v=2";
                }

                var resumed = await AttachAsync(query, running);
                string id;
                lock (_gate)
                {
                    id = _socketId!;
                }

                _logger.LogInformation("Connected again after {Elapsed} ms as socket {SocketId} ({How})", since.ElapsedMilliseconds, id, resumed ? "resumed" : before is null ? "new" : $"a fresh socket replacing {before}");
                await announced; // Reconnecting first, however quick the reconnect was
                await RaiseAsync(Reconnected, id, resumed);
                return;
            }
            catch (OperationCanceledException) when (running.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogDebug(ex, "Reconnect attempt {Attempt} failed", attempt + 1);
            }
        }
    }

    // Closed for good (stopped, or reconnecting was off): a request waiting for the connection fails now.
    private void Fail(Exception error)
    {
        TaskCompletionSource waiting;
        lock (_gate)
        {
            waiting = _connected;
            _connected = NewSignal();
        }

        waiting.TrySetException(error);
        _ = waiting.Task.Exception; // observed
    }

    private async Task RaiseAsync(Func<Exception?, Task>? handlers, Exception? error)
    {
        foreach (var handler in handlers?.GetInvocationList().Cast<Func<Exception?, Task>>() ?? [])
        {
            try
            {
                await handler(error);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "A connection event handler failed");
            }
        }
    }

    private async Task RaiseAsync(Func<string, bool, Task>? handlers, string id, bool resumed)
    {
        foreach (var handler in handlers?.GetInvocationList().Cast<Func<string, bool, Task>>() ?? [])
        {
            try
            {
                await handler(id, resumed);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "A connection event handler failed");
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Handler(Func<JsonElement, Task> invoke)
    {
        public Func<JsonElement, Task> Invoke { get; } = invoke;
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
