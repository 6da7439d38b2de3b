using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Lease;
using Orleans.Rooms.Sockets;

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
    RuntimeActivity runtime,
    FrontEndLease lease,
    IHostApplicationLifetime lifetime,
    IOptions<WarmUpOptions> options,
    IOptions<SocketLimitsOptions> limits,
    TimeProvider time,
    ILogger<StartupWarmUp> logger) : BackgroundService
{
    private readonly WarmUpOptions _options = options.Value;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the warm-up is over, whether it succeeded, failed or is switched off.</summary>
    public Task Done => _done.Task;

    /// <summary>The address its sockets connected to over loopback; null while it has not started, or when they connected in-process.</summary>
    internal Uri? Loopback { get; private set; }

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
            var loopback = Loopback = _options.OverLoopback ? LoopbackAddress() : null;
            using var timeout = new CancellationTokenSource(_options.Timeout, time);
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
            try
            {
                var settled = SettleAsync(began, cancel.Token);
                try
                {
                    await Task.WhenAll(Enumerable.Range(0, _options.Sockets).Select(_ => RunSocketAsync(loopback, settled, cancel.Token)));
                }
                finally
                {
                    // A socket that failed ends the warm-up: so does the wait for the JIT.
                    await cancel.CancelAsync();
                }

                var lastWindow = await settled;
                LogWarmedUp(
                    _options.Sockets,
                    loopback?.ToString() ?? "in-process",
                    (long)time.GetElapsedTime(began).TotalMilliseconds,
                    lastWindow < 0 ? "not counted" : lastWindow.ToString(CultureInfo.InvariantCulture),
                    lastWindow < 0 ? "Duration took it past Rooms:WarmUp:ReadyWithin"
                        : lastWindow < _options.QuietBelow ? "quiet" : "still compiling when Rooms:WarmUp:ReadyWithin came");
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

    /// <summary>
    /// Completes once the sockets may stop: <see cref="WarmUpOptions.Duration"/> after <paramref name="began"/>, then
    /// once the JIT goes quiet (fewer than <see cref="WarmUpOptions.QuietBelow"/> methods compiled in a
    /// <see cref="WarmUpOptions.QuietWindow"/>) or the process is <see cref="WarmUpOptions.ReadyWithin"/> old, whichever
    /// comes first. Gives the methods compiled in the last window counted, or -1 when none was.
    /// </summary>
    private async Task<long> SettleAsync(long began, CancellationToken cancellationToken)
    {
        var least = _options.Duration - time.GetElapsedTime(began);
        if (least > TimeSpan.Zero)
        {
            await Task.Delay(least, time, cancellationToken);
        }

        var compiled = runtime.CompiledMethods;
        var lastWindow = -1L;
        while (time.GetUtcNow() - runtime.ProcessStarted + WarmUpOptions.QuietWindow <= _options.ReadyWithin)
        {
            await Task.Delay(WarmUpOptions.QuietWindow, time, cancellationToken);
            var now = runtime.CompiledMethods;
            (lastWindow, compiled) = (now - compiled, now);
            LogCompiled(lastWindow, (long)WarmUpOptions.QuietWindow.TotalMilliseconds, (long)runtime.CompilationTime.TotalMilliseconds);
            if (lastWindow < _options.QuietBelow)
            {
                break;
            }
        }

        return lastWindow;
    }

    private async Task RunSocketAsync(Uri? loopback, Task settled, CancellationToken cancellationToken)
    {
        await using var socket = loopback is null
            ? await InProcessSocket.ConnectAsync(services, cancellationToken)
            : await InProcessSocket.ConnectOverLoopbackAsync(services, loopback, cancellationToken: cancellationToken);
        // Paced below the per-socket request limit a client has (Rooms:Limits:RequestsPerSecondPerSocket, a token
        // bucket that size): half the bucket at once, then 80 % of its rate.
        var connected = time.GetTimestamp();
        var rate = 0.8 * limits.Value.RequestsPerSecondPerSocket;
        var burst = 0.5 * limits.Value.RequestsPerSecondPerSocket;
        for (var i = 0; i < _options.Cycles || !settled.IsCompleted; i++)
        {
            await cycle(socket, i, cancellationToken);
            var ahead = (socket.RequestsSent - burst) / rate - time.GetElapsedTime(connected).TotalSeconds;
            if (ahead > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(ahead), time, cancellationToken);
            }
        }
    }

    /// <summary>This server's own plain-HTTP address, as a client on this machine reaches it; null when it has none.</summary>
    private Uri? LoopbackAddress()
    {
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            if (!address.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            // Wildcards (http://+:80, http://*:80, http://0.0.0.0:80, http://[::]:80) are reached on loopback.
            var rest = address["http://".Length..];
            var colon = rest.LastIndexOf(':');
            if (colon < 0 || !int.TryParse(rest[(colon + 1)..].TrimEnd('/'), out var port))
            {
                continue;
            }

            var host = rest[..colon];
            host = host is "+" or "*" or "0.0.0.0" or "[::]" or "localhost" ? "127.0.0.1" : host;
            return new Uri($"http://{host}:{port}");
        }

        return null;
    }

    [LoggerMessage(1, LogLevel.Information, "Warmed up in {ElapsedMs} ms: {Sockets} sockets connected over {Transport}; methods the JIT compiled in its last half second: {LastWindow} ({Settled}).")]
    private partial void LogWarmedUp(int sockets, string transport, long elapsedMs, string lastWindow, string settled);

    [LoggerMessage(4, LogLevel.Debug, "The JIT compiled {Methods} methods in the last {WindowMs} ms of the warm-up ({JitMs} ms of compilation since the process started).")]
    private partial void LogCompiled(long methods, long windowMs, long jitMs);

    [LoggerMessage(2, LogLevel.Warning, "The warm-up took longer than {Timeout} (Rooms:WarmUp:Timeout); ready without it.")]
    private partial void LogTimedOut(TimeSpan timeout);

    [LoggerMessage(3, LogLevel.Warning, "The warm-up failed; ready without it.")]
    private partial void LogFailed(Exception exception);
}
