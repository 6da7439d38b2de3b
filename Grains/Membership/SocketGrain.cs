using Orleans.Placement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.Membership;

/// <summary>
/// Owns one socket's memberships. Non-reentrant on purpose: every change to this socket's rooms runs one
/// at a time. Order of effects, which is what makes a rebuild from the front end exact:
/// join — front end's record, then rooms, then this grain; leave — rooms, then this grain, then the front
/// end's record. So at every instant the rooms list no more than the record holds. Room grains never call
/// back into socket grains, and the front end answers without calling grains, so waiting cannot deadlock.
/// </summary>
[CollectionAgeLimit(Minutes = 2)] // only disconnected sockets are collected: see KeepActive and AllowCollection
[Immovable] // its state lives in memory only: a migration (rebalancer, repartitioner) would lose it
internal sealed partial class SocketGrain(IOptions<RoomsOptions> options, LocalFrontEnds inProcess, ILogger<SocketGrain> logger) : MembershipGrain, ISocketGrain
{
    private readonly HashSet<string> _rooms = new(StringComparer.Ordinal);
    private string? _frontEndId;
    private long _sequence;
    private IFrontEndObserver? _frontEnd;

    /// <summary>The socket's front end: the object itself when it runs in this process, else its observer reference.</summary>
    private IFrontEndObserver? FrontEnd => inProcess.Resolve(_frontEndId, _frontEnd);

    private string Id => this.GetPrimaryKeyString();

    public async Task Connect(string frontEndId, IFrontEndObserver frontEnd)
    {
        ArgumentException.ThrowIfNullOrEmpty(frontEndId);
        ArgumentNullException.ThrowIfNull(frontEnd);
        if (_frontEndId is not null && _frontEndId != frontEndId)
        {
            throw new InvalidOperationException($"Socket '{Id}' is already connected to front end '{_frontEndId}'; it cannot connect to '{frontEndId}' as well.");
        }

        await Room(Id).Add(Id, frontEndId);
        _frontEndId = frontEndId;
        _frontEnd = frontEnd;
        _rooms.Add(Id);
        KeepActive();
    }

    public async Task Disconnect()
    {
        if (_frontEndId is { } frontEndId)
        {
            // The front end is not told: it is the one disconnecting the socket, or it is dead and purged.
            await RemoveFrom([.. _rooms], frontEndId, tellFrontEnd: false);
            if (_rooms.Count > 0)
            {
                // Some rooms could not be reached: stay connected (and pinned) so that a retry finishes the job.
                throw new InvalidOperationException($"Socket '{Id}' could not leave {_rooms.Count} of its rooms; the disconnect must be retried.");
            }

            _frontEndId = null;
            _frontEnd = null;

            // Left to the normal idle collection rather than deactivated now: deactivating at once makes
            // calls that race with the disconnect bounce between silos while the directory catches up.
            AllowCollection();
        }
    }

    public async Task Restore(string frontEndId, IFrontEndObserver frontEnd, RoomsSnapshot record)
    {
        ArgumentException.ThrowIfNullOrEmpty(frontEndId);
        ArgumentNullException.ThrowIfNull(frontEnd);
        ArgumentNullException.ThrowIfNull(record);
        if (_frontEndId is null)
        {
            // This grain lost the socket (its silo went, or the front end was purged while alive): the front
            // end's record is the truth. Nothing else can have changed it meanwhile: every change needs this
            // grain to know the socket.
            _frontEndId = frontEndId;
            _rooms.UnionWith(record.Rooms);
            _rooms.Add(Id);
            KeepActive();
            LogRestored(Id, frontEndId, _rooms.Count);
        }
        else if (_frontEndId != frontEndId)
        {
            LogRestoreRefused(Id, frontEndId, _frontEndId);
            return;
        }

        _frontEnd = frontEnd;

        // Number the next changes after any the front end has seen, so that it takes them as newer.
        _sequence = Math.Max(_sequence, record.Sequence);

        // Whether the rooms lost it or not, make every room list it again (idempotent), and re-list them.
        await Task.WhenAll(_rooms.Select(room => Room(room).Add(Id, frontEndId, relist: true)));
    }

    public async Task<RoomsChange> Join(string[] rooms, string? viaFrontEnd)
    {
        var frontEndId = EnsureConnected();
        var toJoin = rooms.Distinct(StringComparer.Ordinal).ToArray();
        if (toJoin.Length == 0)
        {
            return new RoomsChange(_sequence, [], []);
        }

        var limit = options.Value.MaxRoomsPerSocket;
        var wouldHave = CountedRooms() + toJoin.Count(r => r != Id && !_rooms.Contains(r));
        if (wouldHave > limit)
        {
            throw new RoomLimitExceededException(Id, limit, wouldHave);
        }

        // The record first: a room must never list a membership its socket's front end does not know. The
        // socket's own front end recorded the join before it called.
        var change = new RoomsChange(++_sequence, toJoin, []);
        var tellFrontEnd = viaFrontEnd != frontEndId;
        if (tellFrontEnd)
        {
            await FrontEnd!.RoomsChanged(Id, change);
        }

        // Rooms already joined are added again too (a no-op when they list it), so a room that lost this
        // member converges on the next join.
        var adds = toJoin.Select(room => Room(room).Add(Id, frontEndId)).ToArray();
        try
        {
            await Task.WhenAll(adds);
        }
        finally
        {
            var failed = new List<string>();
            for (var i = 0; i < toJoin.Length; i++)
            {
                if (adds[i].IsCompletedSuccessfully)
                {
                    _rooms.Add(toJoin[i]);
                }
                else if (!_rooms.Contains(toJoin[i]))
                {
                    failed.Add(toJoin[i]);
                }
            }

            if (failed.Count > 0)
            {
                await Compensate(failed, frontEndId, tellFrontEnd);
            }
        }

        return change;
    }

    public Task<RoomsChange> Leave(string[] rooms, string? viaFrontEnd)
    {
        var frontEndId = EnsureConnected();

        // Also rooms this grain does not list: a room that kept a member it should not have converges.
        var toLeave = rooms.Distinct(StringComparer.Ordinal).ToArray();
        return RemoveFrom(toLeave, frontEndId, tellFrontEnd: viaFrontEnd != frontEndId);
    }

    public Task<RoomsChange> LeaveAll(bool keepOwnRoom, string? keepRoom, string? viaFrontEnd)
    {
        var frontEndId = EnsureConnected();
        var toLeave = _rooms.Where(r => !(keepOwnRoom && r == Id) && r != keepRoom).ToArray();
        return RemoveFrom(toLeave, frontEndId, tellFrontEnd: viaFrontEnd != frontEndId);
    }

    public Task<RoomsSnapshot> GetRooms(CancellationToken cancellationToken)
    {
        EnsureConnected();
        return Task.FromResult(new RoomsSnapshot(_sequence, [.. _rooms]));
    }

    /// <summary>
    /// Rooms first, then this grain, then the front end's record (only what every index dropped): told here,
    /// or, when the caller is the socket's own front end, from the change this returns.
    /// </summary>
    private async Task<RoomsChange> RemoveFrom(string[] rooms, string frontEndId, bool tellFrontEnd)
    {
        if (rooms.Length == 0)
        {
            return new RoomsChange(_sequence, [], []);
        }

        var removes = rooms.Select(room => Room(room).Remove(Id, frontEndId)).ToArray();
        var left = new List<string>(rooms.Length);
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
                    left.Add(rooms[i]);
                }
            }

            if (left.Count > 0)
            {
                var change = new RoomsChange(++_sequence, [], [.. left]);
                if (tellFrontEnd && FrontEnd is { } frontEnd)
                {
                    await frontEnd.RoomsChanged(Id, change);
                }
            }
        }

        return new RoomsChange(_sequence, [], [.. left]);
    }

    /// <summary>
    /// Joins that failed: the room may or may not have committed (a timeout says neither). Take the member out
    /// again and drop it from the record, so all three indexes say "not joined"; if even that fails, the
    /// record keeps it and the next rebuild completes the join, so the indexes still end up agreeing. The
    /// socket's own front end (<paramref name="tellFrontEnd"/> false) learns of it from the failed call itself.
    /// </summary>
    private async Task Compensate(List<string> failed, string frontEndId, bool tellFrontEnd)
    {
        try
        {
            await Task.WhenAll(failed.Select(room => Room(room).Remove(Id, frontEndId)));
            var change = new RoomsChange(++_sequence, [], [.. failed]);
            if (tellFrontEnd)
            {
                await FrontEnd!.RoomsChanged(Id, change);
            }
        }
        catch (Exception ex)
        {
            LogCompensationFailed(ex, Id, failed.Count);
        }
    }

    private int CountedRooms() => _rooms.Contains(Id) ? _rooms.Count - 1 : _rooms.Count;

    private string EnsureConnected() => _frontEndId ?? throw new SocketNotFoundException(Id);

    private IRoomGrain Room(string room) => GrainFactory.GetGrainByKey<IRoomGrain>(room);

    [LoggerMessage(1, LogLevel.Information, "Socket {SocketId} restored from front end {FrontEndId} with {Rooms} rooms.")]
    private partial void LogRestored(string socketId, string frontEndId, int rooms);

    [LoggerMessage(2, LogLevel.Warning, "Front end {FrontEndId} asked to restore socket {SocketId}, which is connected to front end {Owner}; ignored.")]
    private partial void LogRestoreRefused(string socketId, string frontEndId, string owner);

    [LoggerMessage(3, LogLevel.Warning, "Socket {SocketId}: undoing {Count} failed joins failed too; the next rebuild completes them.")]
    private partial void LogCompensationFailed(Exception exception, string socketId, int count);
}
