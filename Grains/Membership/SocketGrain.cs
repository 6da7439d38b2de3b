using Orleans.Placement;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Membership;

/// <summary>
/// Where one socket lives. Calls no grain. Kept active while the socket is connected: its front end records
/// it again after a silo is lost, and a caller that finds it empty asks the front ends (see RoomService).
/// Noted in <see cref="FrontEndHoldings"/> while connected, so its silo's <see cref="GoneFrontEndSweeper"/>
/// disconnects it once its front end is gone.
/// </summary>
[CollectionAgeLimit(Minutes = 2)] // only disconnected sockets are collected: see KeepActive and AllowCollection
[RandomPlacement] // called from a few grains (front-end and front-end rooms grains): spread over every silo, a new one too, not kept next to the caller
[Immovable] // its state lives in memory only: a migration (rebalancer, repartitioner) would lose it
internal sealed class SocketGrain(FrontEndHoldings holdings) : InMemoryGrain, ISocketGrain
{
    private string? _frontEndId;

    private string Id => this.GetPrimaryKeyString();

    public Task Connect(string frontEndId)
    {
        ArgumentException.ThrowIfNullOrEmpty(frontEndId);
        if (_frontEndId is not null && _frontEndId != frontEndId)
        {
            throw new InvalidOperationException($"Socket '{Id}' is already connected to front end '{_frontEndId}'; it cannot connect to '{frontEndId}' as well.");
        }

        _frontEndId = frontEndId;
        holdings.HoldSocket(frontEndId, Id);
        KeepActive();
        return Task.CompletedTask;
    }

    public Task Disconnect(string frontEndId)
    {
        if (_frontEndId == frontEndId)
        {
            _frontEndId = null;
            holdings.ReleaseSocket(frontEndId, Id);

            // Left to the normal idle collection rather than deactivated now: deactivating at once makes
            // calls that race with the disconnect bounce between silos while the directory catches up.
            AllowCollection();
        }

        return Task.CompletedTask;
    }

    public Task Move(string fromFrontEnd, string toFrontEnd)
    {
        ArgumentException.ThrowIfNullOrEmpty(fromFrontEnd);
        ArgumentException.ThrowIfNullOrEmpty(toFrontEnd);
        if (_frontEndId is not null && _frontEndId != fromFrontEnd && _frontEndId != toFrontEnd)
        {
            throw new InvalidOperationException($"Socket '{Id}' is connected to front end '{_frontEndId}'; it cannot move from '{fromFrontEnd}' to '{toFrontEnd}'.");
        }

        // Unknown here (this grain lost its memory with a silo): the front end it moves to holds it from now on.
        if (_frontEndId is { } from && from != toFrontEnd)
        {
            holdings.ReleaseSocket(from, Id);
        }

        _frontEndId = toFrontEnd;
        holdings.HoldSocket(toFrontEnd, Id);
        KeepActive();
        return Task.CompletedTask;
    }

    public Task DisconnectGone(string frontEndId, long heldUpTo)
        => holdings.SocketHeldUpTo(frontEndId, Id, heldUpTo) ? Disconnect(frontEndId) : Task.CompletedTask;

    public Task<string> GetFrontEnd() => Task.FromResult(_frontEndId ?? throw new SocketNotFoundException(Id));

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_frontEndId is not null)
        {
            holdings.ReleaseSocket(_frontEndId, Id);
        }

        return Task.CompletedTask;
    }
}
