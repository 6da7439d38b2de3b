using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// A client of the resume contract (README, "Resuming after a blip") on the real .NET SignalR client: connects
/// with <c>?resumable=1</c>, takes its id and token from <c>rooms.attached</c>, checks that <c>rooms.event</c>
/// numbers run 1, 2, 3… without a gap or a repeat, acknowledges them (every 64 events, and each second), and
/// when its connection drops reconnects with <c>?resume=&lt;token&gt;&amp;seq=&lt;last processed&gt;</c>, again and
/// again until it is attached (bounded). What it saw is recorded for the test to assert on.
/// </summary>
public sealed class ResumableClient : IAsyncDisposable
{
    private const int AckEvery = 64;
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(60);

    private readonly object _gate = new();
    private readonly bool _acknowledge;
    private readonly List<Attachment> _attachments = [];
    private readonly List<(long Seq, string Event, JsonElement Data)> _events = [];
    private readonly List<string> _methods = [];
    private readonly List<string> _faults = [];
    private readonly List<(Func<bool> Done, TaskCompletionSource Signal)> _waiters = [];
    private readonly CancellationTokenSource _disposing = new();
    private readonly Timer _ackTimer;
    private Uri _baseAddress;
    private HubConnection? _connection;
    private Task _reconnecting = Task.CompletedTask;
    private string? _token;
    private long _lastSeq;
    private long _lastAcked;

    private ResumableClient(Uri baseAddress, bool acknowledge)
    {
        _baseAddress = baseAddress;
        _acknowledge = acknowledge;
        _ackTimer = new Timer(_ => _ = AckAsync(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>The socket id the server gave last.</summary>
    public string Id
    {
        get
        {
            lock (_gate)
            {
                return _attachments[^1].SocketId;
            }
        }
    }

    /// <summary>The SignalR connection id of the current connection (not the socket id once it resumed).</summary>
    public string? ConnectionId => _connection?.ConnectionId;

    /// <summary>The resume token the server gave last (a secret: tests only pass it on).</summary>
    public string Token
    {
        get
        {
            lock (_gate)
            {
                return _token!;
            }
        }
    }

    /// <summary>Every <c>rooms.attached</c> so far, first connect included.</summary>
    public IReadOnlyList<Attachment> Attachments
    {
        get
        {
            lock (_gate)
            {
                return [.. _attachments];
            }
        }
    }

    /// <summary>Gaps, repeats and anything else against the contract this client saw; empty when all was well.</summary>
    public IReadOnlyList<string> Faults
    {
        get
        {
            lock (_gate)
            {
                return [.. _faults];
            }
        }
    }

    /// <summary>
    /// Connects through <paramref name="baseAddress"/> and waits for its first <c>rooms.attached</c>; the first
    /// query may be a resume too (a test's forged or spent token). A client that does not
    /// <paramref name="acknowledge"/> acknowledges only through the seq of its resumes (a slow client's test).
    /// </summary>
    public static async Task<ResumableClient> ConnectAsync(Uri baseAddress, string query = "resumable=1", bool acknowledge = true)
    {
        var client = new ResumableClient(baseAddress, acknowledge);
        await client.StartAsync(query).WaitAsync(TestSocket.Timeout);
        await client.WaitUntilAsync(() => client._attachments.Count == 1, "the first rooms.attached");
        return client;
    }

    /// <summary>Sends later (re)connects to <paramref name="baseAddress"/>, e.g. another front end behind the same name.</summary>
    public void ReconnectTo(Uri baseAddress)
    {
        lock (_gate)
        {
            _baseAddress = baseAddress;
        }
    }

    /// <summary>The payloads of event <paramref name="eventName"/>, in the order processed.</summary>
    public IReadOnlyList<JsonElement> ReceivedOf(string eventName)
    {
        lock (_gate)
        {
            return [.. _events.Where(e => e.Event == eventName).Select(e => e.Data)];
        }
    }

    /// <summary>The contract's other client methods received (<c>rooms.move</c>), in order.</summary>
    public IReadOnlyList<string> Methods
    {
        get
        {
            lock (_gate)
            {
                return [.. _methods];
            }
        }
    }

    /// <summary>The sequence numbers processed since the last fresh socket.</summary>
    public IReadOnlyList<long> Seqs
    {
        get
        {
            lock (_gate)
            {
                return [.. _events.Select(e => e.Seq)];
            }
        }
    }

    /// <summary>Sends a virtual request over the current connection (waiting for a resume in progress).</summary>
    public async Task<Reply> RequestAsync(string method, string url, object? data = null)
    {
        var envelope = new Dictionary<string, object?> { ["method"] = method, ["url"] = url };
        if (data is not null)
        {
            envelope["data"] = data;
        }

        await WaitUntilAsync(() => _connection?.State == HubConnectionState.Connected, "a connected connection");
        var result = await _connection!.InvokeAsync<JsonElement>("Request", envelope).WaitAsync(TestSocket.Timeout);
        return new Reply(result.GetProperty("statusCode").GetInt32(), result.GetProperty("body"), result.GetProperty("headers"));
    }

    /// <summary>Waits until the client is attached <paramref name="count"/> times in all, i.e. has (re)connected.</summary>
    public async Task<Attachment> WaitForAttachmentAsync(int count, TimeSpan? within = null)
    {
        await WaitUntilAsync(() => _attachments.Count >= count, $"rooms.attached #{count}", within);
        return Attachments[count - 1];
    }

    /// <summary>Waits for an event of <paramref name="eventName"/> whose payload satisfies <paramref name="match"/>.</summary>
    public Task WaitForAsync(string eventName, Func<JsonElement, bool> match)
        => WaitUntilAsync(() => _events.Any(e => e.Event == eventName && match(e.Data)), $"a matching '{eventName}'");

    /// <summary>Waits until the connection is gone (e.g. after the network was cut).</summary>
    public Task WaitForDropAsync(int attachments)
        => WaitUntilAsync(() => _attachments.Count == attachments && _connection?.State != HubConnectionState.Connected, "the connection to drop");

    /// <summary>Leaves for good: hub method <c>Disconnect</c>, after which the server ends the socket and this client stays away.</summary>
    public async Task DisconnectAsync()
    {
        var connection = _connection!;
        _disposing.Cancel();
        try
        {
            await connection.InvokeAsync("Disconnect").WaitAsync(TestSocket.Timeout);
        }
        catch (Exception) when (connection.State != HubConnectionState.Connected)
        {
            // The server closed the connection before the completion was read: that is the point.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposing.Cancel();
        await _ackTimer.DisposeAsync();
        try
        {
            await _reconnecting;
        }
        catch (Exception)
        {
            // Given up or cancelled: nothing left to wait for.
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    private async Task StartAsync(string query)
    {
        Uri baseAddress;
        lock (_gate)
        {
            baseAddress = _baseAddress;
        }

        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, "/sockets?" + query), HttpTransportType.WebSockets)
            .Build();
        connection.On<JsonElement>("rooms.attached", OnAttached);
        connection.On<JsonElement>("rooms.move", _ =>
        {
            lock (_gate)
            {
                _methods.Add("rooms.move");
            }
        });
        connection.On<long, string, JsonElement>("rooms.event", (seq, eventName, data) => OnEvent(connection, seq, eventName, data));
        connection.Closed += _ =>
        {
            lock (_gate)
            {
                if (!_disposing.IsCancellationRequested && ReferenceEquals(connection, _connection))
                {
                    _reconnecting = Task.Run(ReconnectAsync);
                }

                Signal();
            }

            return Task.CompletedTask;
        };
        HubConnection? previous;
        lock (_gate)
        {
            previous = _connection;
            _connection = connection;
        }

        if (previous is not null && previous.State == HubConnectionState.Disconnected)
        {
            await previous.DisposeAsync();
        }

        try
        {
            await connection.StartAsync(_disposing.Token);
        }
        catch (Exception)
        {
            await connection.DisposeAsync();
            throw;
        }

        lock (_gate)
        {
            Signal();
        }
    }

    /// <summary>Resumes with the last token and seq, retrying every <see cref="RetryEvery"/> while the network is out.</summary>
    private async Task ReconnectAsync()
    {
        var started = Stopwatch.StartNew();
        while (!_disposing.IsCancellationRequested)
        {
            string query;
            lock (_gate)
            {
                query = $"resume={Uri.EscapeDataString(_token!)}&seq={_lastSeq}";
            }

            try
            {
                await StartAsync(query).WaitAsync(TimeSpan.FromSeconds(5));
                return;
            }
            catch (Exception) when (!_disposing.IsCancellationRequested && started.Elapsed < GiveUpAfter)
            {
                await Task.Delay(RetryEvery, _disposing.Token);
            }
        }
    }

    private void OnAttached(JsonElement attached)
    {
        var attachment = new Attachment(
            attached.GetProperty("socketId").GetString()!,
            attached.GetProperty("resumed").GetBoolean(),
            attached.GetProperty("windowMs").GetInt64(),
            Environment.TickCount64);
        lock (_gate)
        {
            _token = attached.GetProperty("resumeToken").GetString();
            if (!attachment.Resumed)
            {
                // A fresh socket: its events are numbered from 1 again.
                _lastSeq = 0;
                _lastAcked = 0;
                _events.Clear();
            }

            _attachments.Add(attachment);
            Signal();
        }
    }

    private Task OnEvent(HubConnection connection, long seq, string eventName, JsonElement data)
    {
        bool ack;
        lock (_gate)
        {
            if (_attachments.Count == 0)
            {
                _faults.Add($"rooms.event {seq} before rooms.attached");
            }

            if (seq != _lastSeq + 1)
            {
                _faults.Add(seq <= _lastSeq ? $"repeat: {seq} after {_lastSeq}" : $"gap: {seq} after {_lastSeq}");
            }

            if (seq > _lastSeq)
            {
                _lastSeq = seq;
                _events.Add((seq, eventName, data.Clone()));
            }

            ack = _lastSeq - _lastAcked >= AckEvery;
            Signal();
        }

        return ack ? AckAsync(connection) : Task.CompletedTask;
    }

    private Task AckAsync() => _connection is { } connection ? AckAsync(connection) : Task.CompletedTask;

    private async Task AckAsync(HubConnection connection)
    {
        long seq;
        lock (_gate)
        {
            if (!_acknowledge || _lastSeq <= _lastAcked || connection.State != HubConnectionState.Connected)
            {
                return;
            }

            seq = _lastAcked = _lastSeq;
        }

        try
        {
            await connection.SendAsync("Ack", seq);
        }
        catch (Exception)
        {
            // The connection went; the resume's seq acknowledges instead.
        }
    }

    private async Task WaitUntilAsync(Func<bool> done, string what, TimeSpan? within = null)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (done())
            {
                return;
            }

            _waiters.Add((done, signal));
        }

        try
        {
            await signal.Task.WaitAsync(within ?? TestSocket.Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Resumable client ({_connection?.State}, attached {Attachments.Count}x, last seq {_lastSeq}) saw no {what} within {within ?? TestSocket.Timeout}.");
        }
    }

    /// <summary>Wakes the waiters whose condition now holds; also on connection state changes, via the events they cause.</summary>
    private void Signal()
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Done())
            {
                _waiters[i].Signal.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    /// <param name="SocketId">The socket id the server gave.</param>
    /// <param name="Resumed">True when the server resumed the socket the token named.</param>
    /// <param name="WindowMs">The server's resume window.</param>
    /// <param name="At">When it arrived (<see cref="Environment.TickCount64"/>).</param>
    public sealed record Attachment(string SocketId, bool Resumed, long WindowMs, long At);

    /// <summary>A virtual request's envelope as this raw client reads it.</summary>
    public sealed record Reply(int StatusCode, JsonElement Body, JsonElement Headers)
    {
        public string? Text => Body.ValueKind == JsonValueKind.String ? Body.GetString() : null;

        public string? Message => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("message", out var m) ? m.GetString() : null;

        public string[] Strings => [.. Body.EnumerateArray().Select(e => e.GetString()!)];
    }
}
