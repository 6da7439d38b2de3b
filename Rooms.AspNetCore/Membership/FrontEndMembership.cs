using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Directory;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.Membership;

/// <summary>
/// The memberships of this front end's sockets (a <see cref="SocketIndex"/>), and the listing state machine that
/// keeps the cluster's view of them in step: per room, whether its room grain lists this front end. The front
/// end holds the connections, so this is where a socket's memberships live and die; the cluster only knows,
/// per room, which front ends hold members (<see cref="IRoomGrain"/>). A change is applied under one lock, so
/// the index and the listings always agree; it costs a call through the door (<see cref="IClusterDoor"/>) only
/// when it makes this front end hold a room it is not listed in. A room this front end stops holding stays
/// listed for <see cref="FrontEndOptions.EmptyRoomLinger"/> (a socket that leaves and joins again in a loop
/// costs nothing), then is delisted in a batch.
/// </summary>
/// <remarks>
/// Per room, at most one listing change is in flight (<see cref="Registration"/>); a join completes only once
/// its rooms list this front end, so a broadcast that starts after it reaches the socket. What may be listed
/// without this front end knowing (a call whose outcome is unknown) is marked dirty and delisted later, so the
/// room grains never miss this front end and only briefly list it too often. docs/design.md, "Listing".
/// </remarks>
internal sealed partial class FrontEndMembership : IAsyncDisposable
{
    /// <summary>How many times a join waits for another change of its room before it gives up.</summary>
    private const int MaxEnsureAttempts = 4;

    /// <summary>Ids (rooms or sockets) per call of a relisting or a sweep.</summary>
    private const int MaxIdsPerCall = 1000;

    private readonly object _lock = new();
    private readonly SocketIndex _index = new();
    private readonly Dictionary<string, RoomListing> _listings = new(StringComparer.Ordinal);

    /// <summary>
    /// The listings the sweep looks at: rooms emptied here (or left dirty) since it last looked. A listed room with
    /// members costs the sweep nothing, so its period costs the rooms that emptied, not every room listed.
    /// </summary>
    private readonly HashSet<string> _emptied = new(StringComparer.Ordinal);

    /// <summary>The sockets whose location is recorded in the cluster (see <see cref="TryMarkLocated"/>), held here or not yet forgotten there.</summary>
    private readonly HashSet<string> _located = new(StringComparer.Ordinal);

    /// <summary>Per socket, its joins in flight: each room with the stamp of the change that decides on undoing it.</summary>
    private readonly Dictionary<string, Dictionary<string, long>> _joining = new(StringComparer.Ordinal);

    private readonly IClusterDoor _door;
    private readonly int _maxRoomsPerSocket;
    private readonly TimeProvider _time;
    private readonly RoomsMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ITimer _sweeper;
    private long _stamp;
    private int _sweeping;

    public FrontEndMembership(IClusterDoor door, IOptions<RoomsOptions> rooms, IOptions<FrontEndOptions> frontEnd, TimeProvider time, RoomsMetrics metrics, ILogger<FrontEndMembership> logger)
    {
        _door = door;
        _maxRoomsPerSocket = rooms.Value.MaxRoomsPerSocket;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        Linger = frontEnd.Value.EmptyRoomLinger;
        var tick = TimeSpan.FromTicks(Math.Max(Linger.Ticks / 2, TimeSpan.FromMilliseconds(100).Ticks));
        _sweeper = time.CreateTimer(_ => _ = SweepAsync(), null, tick, tick);
    }

    public TimeSpan Linger { get; }

    /// <summary>
    /// Told, outside the lock, of every room a socket left here (a leave, a room-wide change, a join undone, a
    /// disconnect; not a move to another front end): its presence there ends (<see cref="Presence.FrontEndPresence"/>).
    /// </summary>
    public Action<string, IReadOnlyCollection<string>>? RoomsLeft { get; set; }

    /// <summary>Asked, outside the lock, for the presence entries of a socket that moves away (<see cref="TakeSocket"/>): they go with it.</summary>
    public Func<string, Presence.PresenceEntry[]>? PresenceTaken { get; set; }

    /// <summary>
    /// A socket this front end now holds, in its own-id room. Nothing is told to the cluster: its location is
    /// recorded only once another front end looks for it or it moves (<see cref="TryMarkLocated"/>), and its own-id
    /// room is listed only once another socket joins it (docs/design.md, "Locating a socket").
    /// </summary>
    public void AddSocket(string socketId)
    {
        lock (_lock)
        {
            if (!_index.AddSocket(socketId))
            {
                throw new InvalidOperationException($"Socket '{socketId}' is already connected to this front end.");
            }
        }
    }

    /// <summary>
    /// Marks a socket held here as having its location recorded in the cluster (its socket grain), before that is
    /// done: so its disconnect forgets it there, and a relisting records it again. False when it is not held here.
    /// </summary>
    public bool TryMarkLocated(string socketId)
    {
        lock (_lock)
        {
            if (!_index.Holds(socketId))
            {
                return false;
            }

            _located.Add(socketId);
            return true;
        }
    }

    /// <summary>Whether the socket's location is recorded in the cluster (see <see cref="TryMarkLocated"/>).</summary>
    public bool IsLocated(string socketId)
    {
        lock (_lock)
        {
            return _located.Contains(socketId);
        }
    }

    /// <summary>Whether the socket's location was recorded in the cluster (and is now to be forgotten there); unmarks it.</summary>
    public bool ForgetLocation(string socketId)
    {
        lock (_lock)
        {
            return _located.Remove(socketId);
        }
    }

    /// <summary>The socket is gone: it leaves every room here at once (the rooms this empties are delisted later).</summary>
    public void RemoveSocket(string socketId)
    {
        string[] left;
        lock (_lock)
        {
            if (_index.RemoveSocket(socketId) is not { } rooms)
            {
                return;
            }

            _joining.Remove(socketId);
            foreach (var room in rooms)
            {
                Left(room);
            }

            left = [.. rooms.Where(room => room != socketId)];
        }

        Report(socketId, [], left);
        RoomsLeft?.Invoke(socketId, left);
    }

    /// <summary>
    /// The socket moved to another front end (docs/design.md, "Moving a socket"): it leaves every room here, as
    /// <see cref="RemoveSocket"/>, and its rooms and presence entries at that moment are returned (null when it is
    /// not held here); its presence does not leave.
    /// </summary>
    public (string[] Rooms, Presence.PresenceEntry[] Presence)? TakeSocket(string socketId)
    {
        string[] rooms;
        lock (_lock)
        {
            if (_index.RemoveSocket(socketId) is not { } held)
            {
                return null;
            }

            rooms = [.. held];
            _joining.Remove(socketId);
            _located.Remove(socketId); // the front end it moves to records its location (AdoptSocketAsync)
            foreach (var room in rooms)
            {
                Left(room);
            }
        }

        Report(socketId, [], [.. rooms.Where(room => room != socketId)]);
        return (rooms, PresenceTaken?.Invoke(socketId) ?? []);
    }

    /// <summary>
    /// Lists a socket that moves here from <paramref name="fromFrontEnd"/> (added with <see cref="AddSocket"/>) in
    /// <paramref name="rooms"/> first, so that no read misses it while both front ends hold it, then moves its
    /// location here (recorded in the cluster from now on: whoever looks finds it here, not where it was).
    /// </summary>
    public async Task AdoptSocketAsync(string socketId, string fromFrontEnd, string[] rooms)
    {
        if (rooms.Where(room => room != socketId).ToArray() is { Length: > 0 } joins)
        {
            await ChangeAsync(socketId, MembershipChange.Joining(joins));
        }

        if (!TryMarkLocated(socketId))
        {
            throw new InvalidOperationException($"Socket '{socketId}' left this front end while it moved here.");
        }

        await _door.AdoptAsync(socketId, fromFrontEnd);
    }

    /// <summary>Whether the socket is held here and in the room.</summary>
    public bool IsIn(string socketId, string room)
    {
        lock (_lock)
        {
            return _index.IsIn(socketId, room);
        }
    }

    public bool Holds(string socketId)
    {
        lock (_lock)
        {
            return _index.Holds(socketId);
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _index.Count;
            }
        }
    }

    public string[] SocketIds()
    {
        lock (_lock)
        {
            return _index.SocketIds();
        }
    }

    /// <summary>The rooms of a socket held here (its own-id room included), or null.</summary>
    public string[]? RoomsOf(string socketId)
    {
        lock (_lock)
        {
            return _index.RoomsOf(socketId);
        }
    }

    /// <summary>This front end's sockets in <paramref name="room"/>; the array is shared, do not change it.</summary>
    public string[] MembersOf(string room)
    {
        lock (_lock)
        {
            return _index.MembersOf(room);
        }
    }

    /// <summary>Those of <paramref name="rooms"/> that have a member here other than the socket the room is named after.</summary>
    public string[] Occupied(string[] rooms)
    {
        lock (_lock)
        {
            return [.. rooms.Where(_index.IsListable)];
        }
    }

    /// <summary>Up to <paramref name="count"/> rooms of directory shard <paramref name="shard"/> that <c>Rooms()</c> shows, ordinally after <paramref name="after"/>.</summary>
    public string[] ListedRooms(int shard, string? after, int count)
    {
        lock (_lock)
        {
            return _index.ListableRooms(room => RoomDirectory.ShardOf(room) == shard && (after is null || StringComparer.Ordinal.Compare(room, after) > 0), count);
        }
    }

    /// <summary>The sockets here in any of <paramref name="rooms"/>, each once, minus <paramref name="except"/>.</summary>
    public IReadOnlyCollection<string> Recipients(string[] rooms, string[]? except)
    {
        lock (_lock)
        {
            return _index.Recipients(rooms, except);
        }
    }

    /// <summary>How many rooms the next sweep looks at (tests: a sweep's cost is the rooms emptied, not the rooms listed).</summary>
    internal int SweepCandidates
    {
        get
        {
            lock (_lock)
            {
                return _emptied.Count;
            }
        }
    }

    /// <summary>Whether the room grain of <paramref name="room"/> lists this front end (tests: the listing state machine's outcome).</summary>
    internal bool IsListed(string room)
    {
        lock (_lock)
        {
            return IsListed(room, _listings.GetValueOrDefault(room));
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to a socket held here; false when it is not. Completes once every room
    /// joined lists this front end. A join whose rooms could not be told is undone (unless a later change of the
    /// same room took over) and the error thrown; leaves always succeed here. <paramref name="list"/>, when given,
    /// lists this front end in a room instead of the door's own call (a track: its presence change carries it).
    /// </summary>
    public async Task<bool> ChangeAsync(string socketId, MembershipChange change, Func<string, bool, Task>? list = null)
    {
        long stamp;
        List<string>? joined = null, left = null, unlisted = null;
        lock (_lock)
        {
            if (!_index.Holds(socketId))
            {
                return false;
            }

            var leaves = change.LeaveAll
                ? [.. _index.RoomsView(socketId).Where(r => !(change.KeepOwnRoom && r == socketId) && r != change.KeepRoom)]
                : change.Leave;
            var joins = change.Join.Length <= 1 ? change.Join : [.. change.Join.Distinct(StringComparer.Ordinal)];
            if (joins.Length > 0 && CountedAfter(socketId, leaves, joins) is var counted && counted > _maxRoomsPerSocket && counted > _index.CountedRooms(socketId))
            {
                throw new RoomLimitExceededException(socketId, _maxRoomsPerSocket, counted);
            }

            var joining = _joining.GetValueOrDefault(socketId);
            foreach (var room in leaves)
            {
                joining?.Remove(room);
                if (_index.Leave(socketId, room))
                {
                    Left(room);
                    (left ??= []).Add(room);
                }
            }

            stamp = ++_stamp;
            foreach (var room in joins)
            {
                if (_index.Join(socketId, room))
                {
                    (joined ??= []).Add(room);
                }
                else if (joining?.ContainsKey(room) != true)
                {
                    continue; // in the room already, and its join settled
                }

                if (!IsListed(room, _listings.GetValueOrDefault(room)))
                {
                    // To be listed (or being listed by a join still in flight: this one decides now on undoing it).
                    if (joining is null)
                    {
                        _joining.Add(socketId, joining = new(StringComparer.Ordinal));
                    }

                    joining[room] = stamp;
                    (unlisted ??= []).Add(room);
                }
            }
        }

        Report(socketId, joined, left);
        if (left is not null)
        {
            RoomsLeft?.Invoke(socketId, left);
        }

        if (unlisted is null)
        {
            return true; // every room joined lists this front end already: nothing left that could fail
        }

        var failed = await EnsureListedAsync([.. unlisted], list);
        List<string>? undone = null;
        lock (_lock)
        {
            var joining = _joining.GetValueOrDefault(socketId);
            foreach (var room in unlisted)
            {
                if (joining?.GetValueOrDefault(room) != stamp)
                {
                    continue; // settled, or a later change of the room decides (or the socket is gone)
                }

                joining.Remove(room);
                if (failed?.ContainsKey(room) == true && _index.Leave(socketId, room))
                {
                    Left(room);
                    (undone ??= []).Add(room);
                }
            }

            if (joining?.Count == 0)
            {
                _joining.Remove(socketId);
            }
        }

        if (failed is null)
        {
            return true;
        }

        Report(socketId, null, undone);
        if (undone is not null)
        {
            RoomsLeft?.Invoke(socketId, undone);
        }

        throw failed.Count == 1 ? failed.First().Value : new AggregateException(failed.Values);
    }

    /// <summary>How many rooms (its own-id room aside) the socket would be in after leaving <paramref name="leaves"/> and joining <paramref name="joins"/> (distinct).</summary>
    private int CountedAfter(string socketId, string[] leaves, string[] joins)
    {
        var counted = _index.CountedRooms(socketId);
        foreach (var room in leaves.Length <= 1 ? leaves : leaves.Distinct(StringComparer.Ordinal))
        {
            if (room != socketId && _index.IsIn(socketId, room))
            {
                counted--;
            }
        }

        foreach (var room in joins)
        {
            if (room != socketId && (!_index.IsIn(socketId, room) || Array.IndexOf(leaves, room) >= 0))
            {
                counted++;
            }
        }

        return counted;
    }

    /// <summary>Applies <paramref name="change"/> to every socket here that is in <paramref name="room"/>; each socket succeeds or fails alone.</summary>
    public async Task<MembersChangeOutcome> ChangeMembersAsync(string room, MembershipChange change)
    {
        var members = MembersOf(room);
        if (members.Length == 0)
        {
            return MembersChangeOutcome.None;
        }

        var outcomes = await Task.WhenAll(members.Select(async id =>
        {
            try
            {
                return (Id: id, Held: await ChangeAsync(id, change), Error: (Exception?)null);
            }
            catch (Exception ex)
            {
                return (Id: id, Held: true, Error: ex);
            }
        }));

        // A member that disconnected meanwhile has left every room: nothing to change, and not a failure.
        return new MembersChangeOutcome(
            [.. outcomes.Where(o => o.Held && o.Error is null).Select(o => o.Id)],
            [.. outcomes.Where(o => o.Error is not null).Select(o => new SocketFailure(o.Id, o.Error!))]);
    }

    /// <summary>
    /// Lists this front end again in every room it holds, and the location of every socket recorded in the cluster (after a silo was lost,
    /// or the front-end grain lost its memory or purged this front end while it was alive). Idempotent.
    /// </summary>
    public async Task RelistAllAsync()
    {
        List<string> listable = [], ownOnly = [];
        string[] sockets;
        lock (_lock)
        {
            foreach (var (name, listing) in _listings)
            {
                if (listing.State is Registration.Listed or Registration.Listing)
                {
                    (_index.IsListable(name) ? listable : ownOnly).Add(name);
                }
            }

            sockets = [.. _located];
        }

        var calls = new List<Task>();
        foreach (var chunk in sockets.Chunk(MaxIdsPerCall))
        {
            calls.Add(_door.RelistSocketsAsync(chunk));
        }

        foreach (var chunk in listable.Chunk(MaxIdsPerCall))
        {
            calls.Add(_door.ListAsync(chunk, listable: true, relist: true));
        }

        foreach (var chunk in ownOnly.Chunk(MaxIdsPerCall))
        {
            calls.Add(_door.ListAsync(chunk, listable: false, relist: true));
        }

        try
        {
            await Task.WhenAll(calls);
        }
        finally
        {
            // A room delisted meanwhile may have been listed again by this: delist it once more, later.
            lock (_lock)
            {
                foreach (var name in listable.Concat(ownOnly))
                {
                    if (!_listings.TryGetValue(name, out var listing))
                    {
                        _listings.Add(name, new RoomListing { Dirty = true, EmptiedAt = _time.GetTimestamp() });
                        _emptied.Add(name);
                    }
                    else if (listing.State is not (Registration.Listed or Registration.Listing))
                    {
                        listing.Dirty = true;
                        _emptied.Add(name);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Completes once each of <paramref name="rooms"/> that has members here lists this front end: at once for
    /// rooms listed already, after a call through the door for each of the others (a room another change is
    /// listing or delisting right now is waited for, then looked at again). Returns the rooms that could not be
    /// listed, each with why; null when all are.
    /// </summary>
    private async Task<Dictionary<string, Exception>?> EnsureListedAsync(string[] rooms, Func<string, bool, Task>? list = null)
    {
        Dictionary<string, Exception>? failed = null;
        var remaining = rooms;
        for (var attempt = 1; ; attempt++)
        {
            List<(string Name, bool Listable, TaskCompletionSource Done)>? toList = null;
            List<string>? waiting = null;
            List<Task>? waits = null;
            lock (_lock)
            {
                foreach (var name in remaining)
                {
                    if (!_index.HasMembers(name))
                    {
                        continue; // left meanwhile: nothing to list
                    }

                    if (!_listings.TryGetValue(name, out var listing))
                    {
                        _listings.Add(name, listing = new RoomListing());
                    }
                    else if (IsListed(name, listing))
                    {
                        continue;
                    }

                    if (listing.State is Registration.Listing or Registration.Delisting)
                    {
                        (waiting ??= []).Add(name);
                        (waits ??= []).Add(listing.Pending);
                        continue;
                    }

                    var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    listing.State = Registration.Listing;
                    listing.Pending = done.Task;
                    (toList ??= []).Add((name, _index.IsListable(name), done));
                }
            }

            if (toList is not null)
            {
                // Started outside the lock: a listing may be the caller's own (a track's rides with its entry).
                var listings = new Task<(string Room, Exception? Error)>[toList.Count];
                for (var i = 0; i < listings.Length; i++)
                {
                    listings[i] = ListAsync(toList[i].Name, toList[i].Listable, toList[i].Done, list);
                }

                foreach (var (room, error) in await Task.WhenAll(listings))
                {
                    if (error is not null)
                    {
                        (failed ??= new(StringComparer.Ordinal))[room] = error;
                    }
                }
            }

            if (waiting is null)
            {
                return failed;
            }

            if (attempt == MaxEnsureAttempts)
            {
                foreach (var room in waiting)
                {
                    (failed ??= new(StringComparer.Ordinal))[room] = new TimeoutException($"This front end could not list itself in room '{room}' after {attempt} attempts: other changes of the room kept failing.");
                }

                return failed;
            }

            await Task.WhenAll(waits!);
            remaining = [.. waiting];
        }
    }

    /// <summary>
    /// Lists this front end in one room, through the door or through <paramref name="list"/> (a track's presence
    /// change carries it); the outcome settles the room's state (an unknown one as dirty).
    /// </summary>
    private async Task<(string Room, Exception? Error)> ListAsync(string name, bool listable, TaskCompletionSource done, Func<string, bool, Task>? list)
    {
        try
        {
            await (list?.Invoke(name, listable) ?? _door.ListAsync([name], listable, relist: false));
            lock (_lock)
            {
                Settle(name, Registration.Listed, listedListable: listable);
            }

            return (name, null);
        }
        catch (Exception ex)
        {
            LogListingFailed(ex, name);
            lock (_lock)
            {
                // Maybe listed, maybe not: a later join lists it again, and an empty one is delisted.
                Settle(name, Registration.None, listedListable: false, dirty: true);
            }

            return (name, ex);
        }
        finally
        {
            done.SetResult();
        }
    }

    private void Settle(string name, Registration state, bool listedListable, bool dirty = false)
    {
        var listing = _listings[name];
        listing.State = state;
        listing.ListedListable = state == Registration.Listed && (listedListable || listing.ListedListable);
        listing.Dirty = dirty;
        if (!_index.HasMembers(name))
        {
            listing.EmptiedAt = _time.GetTimestamp();
            _emptied.Add(name);
        }
    }

    /// <summary>Delists, in one batch, the rooms that have had no member here for <see cref="Linger"/>.</summary>
    internal async Task SweepAsync()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            List<string>? due = null;
            var delisting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                List<string>? done = null;
                foreach (var name in _emptied)
                {
                    // Not to delist now (gone, joined again, or being listed or delisted): forgotten here. Its next
                    // leave, or the settling of its listing, brings it back.
                    if (!_listings.TryGetValue(name, out var listing)
                        || _index.HasMembers(name)
                        || !(listing.State == Registration.Listed || (listing.State == Registration.None && listing.Dirty)))
                    {
                        (done ??= []).Add(name);
                    }
                    else if (_time.GetElapsedTime(listing.EmptiedAt) >= Linger)
                    {
                        listing.State = Registration.Delisting;
                        listing.Pending = delisting.Task;
                        (due ??= []).Add(name);
                        (done ??= []).Add(name);
                    }
                }

                if (done is not null)
                {
                    _emptied.ExceptWith(done);
                }
            }

            if (due is null)
            {
                return;
            }

            try
            {
                foreach (var chunk in due.Chunk(MaxIdsPerCall))
                {
                    await _door.DelistAsync(chunk);
                }

                lock (_lock)
                {
                    foreach (var name in due)
                    {
                        if (!_index.HasMembers(name))
                        {
                            _listings.Remove(name);
                        }
                        else
                        {
                            var listing = _listings[name];
                            listing.State = Registration.None; // joined meanwhile: that join lists it again
                            listing.Dirty = false;
                        }
                    }
                }
            }
            catch (Exception ex)
            {
                LogDelistingFailed(ex, due.Count);
                lock (_lock)
                {
                    foreach (var name in due)
                    {
                        Settle(name, Registration.None, listedListable: false, dirty: true);
                    }
                }
            }
            finally
            {
                delisting.SetResult();
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>
    /// The front end is detaching (<see cref="Lease.FrontEndLease"/>): its purge delists every room it is listed in,
    /// so no sweep runs from now on, and one under way is waited for (at most <paramref name="within"/>). A sweep
    /// that ran on would call into a cluster that may be stopping with it (the embedded shape), and fail loudly.
    /// The sweep flag, once taken here, is never given back: a later <see cref="SweepAsync"/> returns at once.
    /// </summary>
    public async Task StopSweepingAsync(TimeSpan within)
    {
        await _sweeper.DisposeAsync();
        var started = _time.GetTimestamp();
        while (Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0 && _time.GetElapsedTime(started) < within)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), _time);
        }
    }

    public async ValueTask DisposeAsync() => await _sweeper.DisposeAsync();

    /// <summary>Whether the room grain lists this front end as its members need: as a listable room when it is one.</summary>
    private bool IsListed(string room, RoomListing? listing)
        => listing is { State: Registration.Listed } && (listing.ListedListable || !_index.IsListable(room));

    /// <summary>A socket left <paramref name="room"/>: a room never listed is forgotten once empty, a listed one lingers.</summary>
    private void Left(string room)
    {
        if (_index.HasMembers(room) || !_listings.TryGetValue(room, out var listing))
        {
            return;
        }

        if (listing.State == Registration.None && !listing.Dirty)
        {
            _listings.Remove(room); // never listed: nothing to delist
        }
        else
        {
            listing.EmptiedAt = _time.GetTimestamp();
            _emptied.Add(room);
        }
    }

    private void Report(string socketId, List<string>? joined, IReadOnlyList<string>? left)
    {
        if (joined is null && (left is null || left.Count == 0))
        {
            return;
        }

        _metrics.MembershipsChanged(joined?.Count ?? 0, left?.Count ?? 0);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            foreach (var room in joined ?? [])
            {
                LogJoined(socketId, room);
            }

            foreach (var room in left ?? [])
            {
                LogLeft(socketId, room);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "Socket {SocketId} joined room {Room}.")]
    private partial void LogJoined(string socketId, string room);

    [LoggerMessage(2, LogLevel.Debug, "Socket {SocketId} left room {Room}.")]
    private partial void LogLeft(string socketId, string room);

    [LoggerMessage(3, LogLevel.Warning, "This front end could not list itself in room {Room}; the joins that needed it failed.")]
    private partial void LogListingFailed(Exception exception, string room);

    [LoggerMessage(4, LogLevel.Warning, "This front end could not delist itself from {Rooms} emptied rooms; retrying later.")]
    private partial void LogDelistingFailed(Exception exception, int rooms);

    private enum Registration
    {
        /// <summary>Not listed (unless <see cref="RoomListing.Dirty"/>: maybe listed).</summary>
        None,
        Listing,
        Listed,
        Delisting,
    }

    /// <summary>Whether one room's grain lists this front end; kept while the room has members here or may still be listed.</summary>
    private sealed class RoomListing
    {
        public Registration State { get; set; }

        /// <summary>Listed as a room <c>Rooms()</c> shows (not only an own-id room).</summary>
        public bool ListedListable { get; set; }

        /// <summary>May be listed although <see cref="State"/> is <see cref="Registration.None"/>: delist when empty.</summary>
        public bool Dirty { get; set; }

        /// <summary>Completes when the listing change in flight ends.</summary>
        public Task Pending { get; set; } = Task.CompletedTask;

        public long EmptiedAt { get; set; }
    }
}
