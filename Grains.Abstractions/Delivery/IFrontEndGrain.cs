namespace Orleans.Rooms.Delivery;

/// <summary>
/// The address of one front end inside the cluster, keyed by front end id. The front end attaches its
/// observer (and renews the lease); senders anywhere in the cluster hand it batches.
/// </summary>
[Alias("rooms.IFrontEndGrain")]
public interface IFrontEndGrain : IGrainWithStringKey
{
    /// <summary>Attaches or renews the front end's observer. Must be repeated within <paramref name="lease"/>.</summary>
    [Alias("Attach")]
    Task Attach(IFrontEndObserver observer, TimeSpan lease);

    [Alias("Detach")]
    Task Detach();

    /// <summary>Passes the batch to the front end; completes once the front end has queued it for its sockets.</summary>
    [Alias("Deliver")]
    Task Deliver(DeliveryBatch batch);
}

/// <summary>The list of live front ends (for blasts). Keyed by 0.</summary>
[Alias("rooms.IFrontEndRegistryGrain")]
public interface IFrontEndRegistryGrain : IGrainWithIntegerKey
{
    [Alias("Register")]
    Task Register(string frontEndId);

    [Alias("Unregister")]
    Task Unregister(string frontEndId);

    [Alias("GetFrontEnds")]
    Task<string[]> GetFrontEnds();
}
