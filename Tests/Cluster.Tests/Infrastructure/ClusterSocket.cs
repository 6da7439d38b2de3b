using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Orleans.Rooms.Client;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// One socket on a front end of the scripted cluster: the project's .NET client over WebSockets, sending
/// virtual requests and keeping every event it is sent. It does not reconnect: a socket whose front end
/// was killed stays gone.
/// </summary>
public sealed class ClusterSocket : IAsyncDisposable
{
    /// <summary>
    /// Longer than Orleans' 30 s response timeout, so a request stuck in the cluster ends with the answer the
    /// server gives it (which says where it got stuck) rather than with the client giving up first.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);

    private readonly RoomsClient _client;
    private readonly Lock _gate = new();
    private readonly List<(string Event, JsonElement Payload)> _events = [];
    private TaskCompletionSource _nextEvent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disconnects;
    private bool _disposing;

    private ClusterSocket(RoomsClient client) => _client = client;

    public string Id => _client.SocketId!;

    /// <summary>How often its connection closed or dropped since it connected (a dispose aside).</summary>
    public int Disconnects => Volatile.Read(ref _disconnects);

    /// <summary>Connects to <paramref name="frontEnd"/>'s hub, keeping events <c>message</c>, <c>marker</c> and <paramref name="events"/>.</summary>
    public static Task<ClusterSocket> ConnectAsync(Uri frontEnd, params string[] events) => ConnectAsync(frontEnd, resumable: false, events);

    /// <summary>
    /// As <see cref="ConnectAsync(Uri, string[])"/>; <paramref name="resumable"/> opts in to resuming (docs/protocol.md,
    /// "Resuming"), which the client then only uses for numbered events: it still does not reconnect.
    /// </summary>
    public static async Task<ClusterSocket> ConnectAsync(Uri frontEnd, bool resumable, params string[] events)
    {
        var client = new RoomsClient(frontEnd, new RoomsClientOptions
        {
            Transports = HttpTransportType.WebSockets,
            AutomaticReconnect = false,
            Resumable = resumable, // plain by default: the server's own behaviour, not the resume contract
            RequestTimeout = Timeout,
        });
        var socket = new ClusterSocket(client);
        client.Closed += _ => socket.Lost();
        client.Reconnecting += _ => socket.Lost();
        foreach (var name in events.Append("message").Append("marker").Distinct())
        {
            client.On<JsonElement>(name, payload => socket.Keep(name, payload));
        }

        using var timeout = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(timeout.Token);
        return socket;
    }

    /// <summary>Sends a virtual request (docs/protocol.md) and returns the answer's status and body.</summary>
    public async Task<Reply> RequestAsync(string method, string url, object? data = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var answer = await _client.RequestAsync(method, url, data, headers);
        return new Reply(answer.StatusCode, answer.Body);
    }

    /// <summary>The payloads of event <paramref name="eventName"/> received so far, in order.</summary>
    public IReadOnlyList<JsonElement> Received(string eventName)
    {
        lock (_gate)
        {
            return [.. _events.Where(e => e.Event == eventName).Select(e => e.Payload)];
        }
    }

    /// <summary>Waits (bounded: <paramref name="within"/>, else <see cref="Timeout"/>) for event <paramref name="eventName"/> with the string payload <paramref name="text"/>.</summary>
    public async Task WaitForAsync(string eventName, string text, TimeSpan? within = null)
    {
        using var deadline = new CancellationTokenSource(within ?? Timeout);
        while (true)
        {
            Task next;
            lock (_gate)
            {
                if (_events.Any(e => e.Event == eventName && e.Payload.ValueKind == JsonValueKind.String && e.Payload.GetString() == text))
                {
                    return;
                }

                next = _nextEvent.Task;
            }

            try
            {
                await next.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Socket {Id} ({(_client.IsConnected ? "connected" : "not connected")}) was not sent {eventName} \"{text}\" within {within ?? Timeout}; it got: {Describe()}");
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Volatile.Write(ref _disposing, true);
        return _client.DisposeAsync();
    }

    private Task Lost()
    {
        if (!Volatile.Read(ref _disposing))
        {
            Interlocked.Increment(ref _disconnects);
        }

        return Task.CompletedTask;
    }

    private void Keep(string eventName, JsonElement payload)
    {
        lock (_gate)
        {
            _events.Add((eventName, payload.Clone()));
            _nextEvent.TrySetResult();
            _nextEvent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private string Describe()
    {
        lock (_gate)
        {
            return _events.Count == 0 ? "nothing" : string.Join(", ", _events.TakeLast(10).Select(e => $"{e.Event} {e.Payload.GetRawText()}"));
        }
    }

    public sealed record Reply(int StatusCode, JsonElement Body)
    {
        public string? Message => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("message", out var message) ? message.GetString() : null;

        public override string ToString() => $"{StatusCode} {Body.GetRawText()}";
    }
}
