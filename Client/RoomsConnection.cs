using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;

namespace Orleans.Rooms.Client;

/// <summary>
/// The one place that owns the SignalR connection: how it is built, started, and connected again when it
/// drops, and when it can take a request. Everything above it (requests, event handlers) only asks it to
/// invoke or to listen; handlers registered on the connection stay registered across its reconnects.
/// </summary>
internal sealed class RoomsConnection : IAsyncDisposable
{
    private readonly HubConnection _hub;
    private readonly object _gate = new();
    private TaskCompletionSource _connected = NewSignal();

    public RoomsConnection(Uri baseAddress, RoomsClientOptions options, ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        var builder = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, options.HubPath), options.Transports, http => options.ConfigureConnection?.Invoke(http));
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        if (options.AutomaticReconnect)
        {
            builder.WithAutomaticReconnect(new EndlessRetryPolicy(options.ReconnectDelays));
        }

        _hub = builder.Build();
        _hub.Reconnecting += _ =>
        {
            Reset();
            return Task.CompletedTask;
        };
        _hub.Reconnected += _ =>
        {
            Signal();
            return Task.CompletedTask;
        };
        _hub.Closed += _ =>
        {
            Fail();
            return Task.CompletedTask;
        };
    }

    public HubConnection Hub => _hub;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _hub.StartAsync(cancellationToken);
        Signal();
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
            connected = _connected.Task;
        }

        if (!connected.IsCompleted)
        {
            if (_hub.State == HubConnectionState.Disconnected)
            {
                throw new InvalidOperationException("The client is not connected: call ConnectAsync first (a closed client does not connect again by itself).");
            }

            await connected.WaitAsync(cancellationToken);
        }

        return await _hub.InvokeAsync<JsonElement>(method, argument, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _hub.StopAsync(cancellationToken);

    public ValueTask DisposeAsync() => _hub.DisposeAsync();

    private void Signal()
    {
        lock (_gate)
        {
            _connected.TrySetResult();
        }
    }

    private void Reset()
    {
        lock (_gate)
        {
            if (_connected.Task.IsCompleted)
            {
                _connected = NewSignal();
            }
        }
    }

    // Closed for good (stopped, or reconnecting was off): a request waiting for the connection fails now.
    private void Fail()
    {
        TaskCompletionSource waiting;
        lock (_gate)
        {
            waiting = _connected;
            _connected = NewSignal();
        }

        waiting.TrySetException(new InvalidOperationException("The connection was closed and is not being connected again."));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The given pauses, then the last of them again and again: the client never stops trying by itself.</summary>
    private sealed class EndlessRetryPolicy(IReadOnlyList<TimeSpan> delays) : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext)
            => delays.Count == 0 ? TimeSpan.Zero : delays[(int)Math.Min(retryContext.PreviousRetryCount, delays.Count - 1)];
    }
}
