using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// A front end hosted in this very process (<see cref="LocalFrontEnds"/>), as a grain of this process hands it a
/// batch without its front-end grain: delivered to its sockets as its own broadcasts are, and kept in the cluster
/// by the front end itself when it reached a resumable socket (docs/design.md, "Surviving a front end").
/// </summary>
internal interface IInProcessDelivery
{
    /// <summary>Queues the batch's event on each target socket here; completes once it is queued, and kept where it must be.</summary>
    Task DeliverFromThisProcess(DeliveryBatch batch);
}
