using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>A real .NET SignalR client on the hub, with what it received recorded per event.</summary>
public sealed class TestSocket : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly HubConnection _connection;
    private readonly List<(string Event, JsonElement Payload)> _received = [];
    private readonly List<(string Event, Func<JsonElement, bool> Match, TaskCompletionSource Done)> _waiters = [];
    private readonly HashSet<string> _listening = [];
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestSocket(HubConnection connection)
    {
        _connection = connection;
        connection.Closed += error =>
        {
            _closed.TrySetResult(error);
            return Task.CompletedTask;
        };
    }

    /// <summary>Completes when the connection closes, with the error it closed with, if any.</summary>
    public Task<Exception?> Closed => _closed.Task;

    public string Id => _connection.ConnectionId!;

    public HubConnectionState State => _connection.State;

    public static Task<TestSocket> ConnectAsync(Uri baseAddress, params string[] events) => ConnectAsync(baseAddress, headers: null, events);

    /// <summary>A socket whose connect request carries <paramref name="headers"/> (an identity, say).</summary>
    public static async Task<TestSocket> ConnectAsync(Uri baseAddress, IDictionary<string, string>? headers, params string[] events)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, "/sockets"), HttpTransportType.WebSockets, options =>
            {
                foreach (var (name, value) in headers ?? new Dictionary<string, string>())
                {
                    options.Headers[name] = value;
                }
            })
            .Build();
        var socket = new TestSocket(connection);
        foreach (var eventName in events.Append("message").Append("marker"))
        {
            socket.Listen(eventName);
        }

        await connection.StartAsync().WaitAsync(Timeout);
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

        _connection.On<JsonElement>(eventName, payload => Record(eventName, payload));
    }

    /// <summary>Sends a virtual request and returns the envelope it answers with.</summary>
    public async Task<Reply> RequestAsync(string method, string url, object? data = null, IDictionary<string, string>? headers = null)
    {
        var envelope = new Dictionary<string, object?> { ["method"] = method, ["url"] = url };
        if (data is not null)
        {
            envelope["data"] = data;
        }

        if (headers is not null)
        {
            envelope["headers"] = headers;
        }

        return await RawRequestAsync(envelope);
    }

    /// <summary>Sends any value as the envelope, malformed ones included.</summary>
    public async Task<Reply> RawRequestAsync(object? envelope)
    {
        var result = await _connection.InvokeAsync<JsonElement>("Request", envelope).WaitAsync(Timeout);
        return new Reply(result.GetProperty("statusCode").GetInt32(), result.GetProperty("body"), result.GetProperty("headers"));
    }

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

    public Task StopAsync() => _connection.StopAsync();

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();

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

    public sealed record Reply(int StatusCode, JsonElement Body, JsonElement Headers)
    {
        public string? Text => Body.ValueKind == JsonValueKind.String ? Body.GetString() : null;

        public string? Message => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("message", out var m) ? m.GetString() : null;

        public string? Error => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("error", out var e) ? e.GetString() : null;

        public string[] Strings => [.. Body.EnumerateArray().Select(e => e.GetString()!)];
    }
}
