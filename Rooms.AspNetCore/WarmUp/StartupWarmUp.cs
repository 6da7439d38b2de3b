using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Sockets;

using Orleans.Rooms.Lease;

namespace Orleans.Rooms.WarmUp;

/// <summary>
/// Runs the app's <see cref="WarmUpCycle"/> on a few in-process sockets once the server has started and the
/// front end is attached, so that the JIT has compiled (and tiered up) what a request runs (hub protocol,
/// virtual request, the app's routes, grain calls, delivery) before <c>/readyz</c> lets clients in: a fresh
/// process then serves its first clients at close to its warm speed. A warm-up that fails or runs out of time
/// is logged and the front end reports ready anyway: it only serves its first requests slower.
/// </summary>
internal sealed partial class StartupWarmUp(
    IServiceProvider services,
    WarmUpCycle cycle,
    FrontEndLease lease,
    IHostApplicationLifetime lifetime,
    IOptions<WarmUpOptions> options,
    TimeProvider time,
    ILogger<StartupWarmUp> logger) : BackgroundService
{
    private readonly WarmUpOptions _options = options.Value;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the warm-up is over, whether it succeeded, failed or is switched off.</summary>
    public Task Done => _done.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (!_options.Enabled)
            {
                return;
            }

            // Requests run through the app's pipeline, which exists once the server started; sockets register
            // only once the front end is attached.
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            {
                await started.Task.WaitAsync(stoppingToken);
            }

            await lease.WhenAttached.WaitAsync(stoppingToken);
            var began = time.GetTimestamp();
            using var timeout = new CancellationTokenSource(_options.Timeout, time);
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
            try
            {
                await Task.WhenAll(Enumerable.Range(0, _options.Sockets).Select(_ => RunSocketAsync(cancel.Token)));
                LogWarmedUp(_options.Sockets, _options.Cycles, (long)time.GetElapsedTime(began).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
            {
                LogTimedOut(_options.Timeout);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping before it finished.
        }
        catch (Exception ex)
        {
            LogFailed(ex);
        }
        finally
        {
            _done.TrySetResult();
        }
    }

    private async Task RunSocketAsync(CancellationToken cancellationToken)
    {
        await using var socket = await InProcessSocket.ConnectAsync(services, cancellationToken);
        for (var i = 0; i < _options.Cycles; i++)
        {
            await cycle(socket, i, cancellationToken);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Warmed up in {ElapsedMs} ms: {Sockets} in-process sockets, {Cycles} cycles each.")]
    private partial void LogWarmedUp(int sockets, int cycles, long elapsedMs);

    [LoggerMessage(2, LogLevel.Warning, "The warm-up took longer than {Timeout} (Rooms:WarmUp:Timeout); ready without it.")]
    private partial void LogTimedOut(TimeSpan timeout);

    [LoggerMessage(3, LogLevel.Warning, "The warm-up failed; ready without it.")]
    private partial void LogFailed(Exception exception);
}
