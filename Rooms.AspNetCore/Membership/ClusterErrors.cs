using Orleans.Runtime;

namespace Orleans.Rooms.Membership;

/// <summary>
/// Which failures of <see cref="IRoomService"/> are the cluster healing rather than the call being wrong: a silo
/// going away or gone, a message it could not take, a time-out. The room service retries them for
/// <see cref="FrontEndOptions.ClusterRetryFor"/> first; one that still surfaces changed nothing the caller
/// cannot repeat (every change is idempotent), so the caller may retry it.
/// </summary>
public static class ClusterErrors
{
    /// <summary>True when <paramref name="exception"/> (or, for an aggregate, each of its parts) is one the caller may retry.</summary>
    public static bool IsRetryable(Exception exception) => exception switch
    {
        PartialFailureException partial => partial.Failures.Count > 0 && partial.Failures.All(f => IsRetryable(f.Value)),
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsRetryable),
        _ => IsTransient(exception),
    };

    /// <summary>
    /// Errors of the cluster, not of the call: a silo going away, a message it could not take, a time-out, or
    /// a cancellation (the membership calls take no token, so a cancellation comes from a stopping silo); and
    /// a message that found no way through at the time (<see cref="IsUndelivered"/>).
    /// </summary>
    internal static bool IsTransient(Exception ex)
        => ex is SiloUnavailableException or TimeoutException or OperationCanceledException || IsUndelivered(ex);

    /// <summary>
    /// The message was never handed to its target, so sending it again cannot make it arrive twice: a silo
    /// rejected it; a gateway had no connection from the front end it was for (the front end's client had
    /// just moved to another gateway), or was too busy to take it; or the front end had no gateway to send it by;
    /// or another front end's grain could not hand it to that front end (<see cref="FrontEnds.FrontEndNotReachedException"/>).
    /// </summary>
    internal static bool IsUndelivered(Exception ex)
        => ex is OrleansMessageRejectionException or ClientNotAvailableException or GatewayTooBusyException or Orleans.Runtime.Messaging.ConnectionFailedException or FrontEnds.FrontEndNotReachedException;
}
