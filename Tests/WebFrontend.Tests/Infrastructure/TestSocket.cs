using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Orleans.Rooms.Client;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// The project's .NET client (<see cref="RoomsClient"/>) on the hub, with what it received recorded per event.
/// It does not reconnect: a test socket that the server drops stays dropped.
/// </summary>
public sealed class TestSocket : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly RoomsClient _client;
    private readonly List<(string Event, JsonElement Payload)> _received = [];
    private readonly List<(string Event, Func<JsonElement, bool> Match, TaskCompletionSource Done)> _waiters = [];
    private readonly HashSet<string> _listening = [];
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestSocket(RoomsClient client)
    {
        _client = client;
        client.Closed += error =>
        {
            _closed.TrySetResult(error);
            return Task.CompletedTask;
        };
    }

    /// <summary>Completes when the connection closes, with the error it closed with, if any.</summary>
    public Task<Exception?> Closed => _closed.Task;

    public string Id => _client.SocketId!;

    public HubConnectionState State => _client.Hub.State;

    public RoomsClient Client => _client;

    public static Task<TestSocket> ConnectAsync(Uri baseAddress, params string[] events) => ConnectAsync(baseAddress, headers: null, events);

    /// <summary>A socket whose connect request carries <paramref name="headers"/> (an identity, say).</summary>
    public static async Task<TestSocket> ConnectAsync(Uri baseAddress, IDictionary<string, string>? headers, params string[] events)
    {
        var client = new RoomsClient(baseAddress, new RoomsClientOptions
        {
            Transports = HttpTransportType.WebSockets,
            AutomaticReconnect = false,
            Resumable = false, // a plain socket: the server's own behaviour, not the resume contract
            RequestTimeout = Timeout,
            ConfigureConnection = options =>
            {
                foreach (var (name, value) in headers ?? new Dictionary<string, string>())
                {
                    options.Headers[name] = value;
                }
            },
        });
        var socket = new TestSocket(client);
        foreach (var eventName in events.Append("message").Append("marker"))
        {
            socket.Listen(eventName);
        }

        using var timeout = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(timeout.Token);
        return socket;
    }

    /// <summary>Records event <paramref name="eventName"/> from now on.</summary>
    public void Listen(string eventName)
    {
        lock (_received)
        {
            if (!_listening.Add(eventName))
            {
                return;
            }
        }

        _client.On<JsonElement>(eventName, payload => Record(eventName, payload));
    }

    /// <summary>Sends a virtual request and returns the envelope it answers with.</summary>
    public Task<RoomsResponse> RequestAsync(string method, string url, object? data = null, IReadOnlyDictionary<string, string>? headers = null)
        => _client.RequestAsync(method, url, data, headers);

    /// <summary>Sends any value as the envelope, malformed ones included (which the typed client cannot).</summary>
    public Task<RoomsResponse> RawRequestAsync(object? envelope) => _client.RawRequestAsync(envelope);

    public IReadOnlyList<JsonElement> ReceivedOf(string eventName)
    {
        lock (_received)
        {
            return [.. _received.Where(r => r.Event == eventName).Select(r => r.Payload)];
        }
    }

    /// <summary>Waits for an event whose payload satisfies <paramref name="match"/>; fails with what did arrive.</summary>
    public async Task<JsonElement> WaitForAsync(string eventName, Func<JsonElement, bool>? match = null)
    {
        match ??= _ => true;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_received)
        {
            if (!_listening.Contains(eventName))
            {
                throw new InvalidOperationException($"Not listening to '{eventName}': call Listen first.");
            }

            foreach (var (e, p) in _received)
            {
                if (e == eventName && match(p))
                {
                    return p;
                }
            }

            _waiters.Add((eventName, match, done));
        }

        try
        {
            await done.Task.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Socket {Id} ({State}) got no matching '{eventName}' within {Timeout}; it got: {Describe()}");
        }

        lock (_received)
        {
            return _received.Last(r => r.Event == eventName && match(r.Payload)).Payload;
        }
    }

    /// <summary>Waits for the marker with this text; everything sent to this socket before it has arrived by then.</summary>
    public Task WaitForMarkerAsync(string text) => WaitForAsync("marker", p => p.ValueKind == JsonValueKind.String && p.GetString() == text);

    public Task StopAsync() => _client.DisconnectAsync();

    /// <summary>Sends a request and fails the test, naming the route and the answer, unless it was answered 200.</summary>
    public async Task OkAsync(string method, string url, object? data = null)
    {
        var reply = await RequestAsync(method, url, data);
        Assert.True(reply.StatusCode == 200, $"{method} {url} answered {reply.StatusCode}: {reply.Body.GetRawText()}");
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();

    private void Record(string eventName, JsonElement payload)
    {
        lock (_received)
        {
            _received.Add((eventName, payload.Clone()));
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var waiter = _waiters[i];
                if (waiter.Event == eventName && waiter.Match(payload))
                {
                    waiter.Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private string Describe()
    {
        lock (_received)
        {
            return string.Join(", ", _received.TakeLast(20).Select(r => $"{r.Event}:{Clip(r.Payload.GetRawText())}"));
        }
    }

    private static string Clip(string text) => text.Length <= 100 ? text : text[..100] + "…";
}

/// <summary>What the tests read from an answer, by name.</summary>
public static class Replies
{
    extension(RoomsResponse reply)
    {
        public string? Message => reply.Body.ValueKind == JsonValueKind.Object && reply.Body.TryGetProperty("message", out var m) ? m.GetString() : null;

        public string? Error => reply.Body.ValueKind == JsonValueKind.Object && reply.Body.TryGetProperty("error", out var e) ? e.GetString() : null;

        public string[] Strings => reply.As<string[]>() ?? [];
    }
}
