using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// Attaches this front end's observer to its front-end grain and renews the lease at a third of its
/// length, until the host stops; then detaches. Sockets are registered only once it is attached, so no
/// broadcast to them can find the front end missing.
/// </summary>
internal sealed partial class FrontEndLease(
    IGrainFactory grains,
    FrontEndIdentity identity,
    LocalDelivery delivery,
    IOptions<FrontEndOptions> options,
    TimeProvider time,
    ILogger<FrontEndLease> logger) : BackgroundService
{
    private readonly TaskCompletionSource _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IFrontEndObserver? _reference;

    public Task WhenAttached => _attached.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lease = options.Value.Lease;
        _reference = grains.CreateObjectReference<IFrontEndObserver>(delivery);
        var frontEnd = grains.GetGrainByKey<IFrontEndGrain>(identity.Id);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = lease / 3;
            try
            {
                await frontEnd.Attach(_reference, lease);
                if (_attached.TrySetResult())
                {
                    LogAttached(identity.Id);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogAttachFailed(ex, identity.Id);
                wait = TimeSpan.FromSeconds(1);
            }

            try
            {
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_reference is null)
        {
            return;
        }

        try
        {
            await grains.GetGrainByKey<IFrontEndGrain>(identity.Id).Detach().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception ex)
        {
            LogDetachFailed(ex, identity.Id);
        }

        grains.DeleteObjectReference<IFrontEndObserver>(_reference);
    }

    [LoggerMessage(LogLevel.Information, "Front end {FrontEndId} attached to the cluster.")]
    private partial void LogAttached(string frontEndId);

    [LoggerMessage(LogLevel.Warning, "Front end {FrontEndId} could not renew its lease; retrying.")]
    private partial void LogAttachFailed(Exception exception, string frontEndId);

    [LoggerMessage(LogLevel.Warning, "Front end {FrontEndId} could not detach.")]
    private partial void LogDetachFailed(Exception exception, string frontEndId);
}
