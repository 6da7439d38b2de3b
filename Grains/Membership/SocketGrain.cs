using Microsoft.Extensions.Options;
using Orleans.Placement;

namespace Orleans.Rooms.Membership;

/// <summary>
/// Owns one socket's memberships. Non-reentrant on purpose: every change to this socket's rooms runs
/// one at a time, and each change updates the room grain before it is recorded here, so the two indexes
/// never disagree once a call has returned. Room grains never call back into socket grains, so waiting
/// on them cannot deadlock.
/// </summary>
[CollectionAgeLimit(Minutes = 2)] // only disconnected sockets are collected: see Connect and Disconnect
[PreferLocalPlacement] // first called by the hub on connect: lives on the silo next to the socket's front end
internal sealed class SocketGrain(IOptions<RoomsOptions> options) : Grain, ISocketGrain
{
    private static readonly TimeSpan Pinned = TimeSpan.FromDays(365);

    private readonly HashSet<string> _rooms = new(StringComparer.Ordinal);
    private string? _frontEndId;

    private string Id => this.GetPrimaryKeyString();

    public async Task Connect(string frontEndId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(frontEndId);
        if (_frontEndId == frontEndId)
        {
            return;
        }

        if (_frontEndId is not null)
        {
            throw new InvalidOperationException($"Socket '{Id}' is already connected to front end '{_frontEndId}'; it cannot connect to '{frontEndId}' as well.");
        }

        await Room(Id).Add(Id, frontEndId, cancellationToken);
        _frontEndId = frontEndId;
        _rooms.Add(Id);

        // The memberships live in memory: a connected socket must not be collected however idle it is.
        DelayDeactivation(Pinned);
    }

    public async Task Disconnect(CancellationToken cancellationToken)
    {
        if (_frontEndId is { } frontEndId)
        {
            await RemoveFrom([.. _rooms], frontEndId, cancellationToken);
            _frontEndId = null;

            // Left to the normal idle collection rather than deactivated now: deactivating at once makes
            // calls that race with the disconnect bounce between silos while the directory catches up.
            DelayDeactivation(TimeSpan.FromSeconds(-1));
        }
    }

    public async Task Join(string[] rooms, CancellationToken cancellationToken)
    {
        var frontEndId = EnsureConnected();
        var toJoin = rooms.Where(r => !_rooms.Contains(r)).Distinct(StringComparer.Ordinal).ToArray();
        if (toJoin.Length == 0)
        {
            return;
        }

        var limit = options.Value.MaxRoomsPerSocket;
        var wouldHave = CountedRooms() + toJoin.Count(r => r != Id);
        if (wouldHave > limit)
        {
            throw new RoomLimitExceededException(Id, limit, wouldHave);
        }

        var adds = toJoin.Select(room => Room(room).Add(Id, frontEndId, cancellationToken)).ToArray();
        try
        {
            await Task.WhenAll(adds);
        }
        finally
        {
            // Record exactly the adds that the rooms committed, so both indexes keep agreeing even when
            // some failed; the failure itself propagates to the caller.
            for (var i = 0; i < toJoin.Length; i++)
            {
                if (adds[i].IsCompletedSuccessfully)
                {
                    _rooms.Add(toJoin[i]);
                }
            }
        }
    }

    public Task Leave(string[] rooms, CancellationToken cancellationToken)
    {
        var frontEndId = EnsureConnected();
        var toLeave = rooms.Where(_rooms.Contains).Distinct(StringComparer.Ordinal).ToArray();
        return toLeave.Length == 0 ? Task.CompletedTask : RemoveFrom(toLeave, frontEndId, cancellationToken);
    }

    public Task LeaveAll(bool keepOwnRoom, string? keepRoom, CancellationToken cancellationToken)
    {
        var frontEndId = EnsureConnected();
        var toLeave = _rooms.Where(r => !(keepOwnRoom && r == Id) && r != keepRoom).ToArray();
        return toLeave.Length == 0 ? Task.CompletedTask : RemoveFrom(toLeave, frontEndId, cancellationToken);
    }

    public Task<string[]> GetRooms(CancellationToken cancellationToken)
    {
        EnsureConnected();
        return Task.FromResult(_rooms.ToArray());
    }

    private async Task RemoveFrom(string[] rooms, string frontEndId, CancellationToken cancellationToken)
    {
        var removes = rooms.Select(room => Room(room).Remove(Id, frontEndId, cancellationToken)).ToArray();
        try
        {
            await Task.WhenAll(removes);
        }
        finally
        {
            for (var i = 0; i < rooms.Length; i++)
            {
                if (removes[i].IsCompletedSuccessfully)
                {
                    _rooms.Remove(rooms[i]);
                }
            }
        }
    }

    private int CountedRooms() => _rooms.Contains(Id) ? _rooms.Count - 1 : _rooms.Count;

    private string EnsureConnected() => _frontEndId ?? throw new SocketNotFoundException(Id);

    private IRoomGrain Room(string room) => GrainFactory.GetGrainByKey<IRoomGrain>(room);
}
