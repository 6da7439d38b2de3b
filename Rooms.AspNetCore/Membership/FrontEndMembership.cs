using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.Membership;

/// <summary>
/// The memberships of this front end's sockets: the rooms of each socket and, for each room, its sockets here.
/// The front end holds the connections, so this is where a socket's memberships live and die; the cluster
/// only knows, per room, which front ends hold members (<see cref="IRoomGrain"/>). A change is applied here
/// under one lock, so the two indexes always agree; it costs a grain call only when it makes this front end
/// hold a room it was not listed in. A room this front end stops holding stays listed for <see cref="Linger"/>
/// (a socket that leaves and joins again in a loop costs nothing), then is delisted in a batch.
/// </summary>
/// <remarks>
/// Per room, at most one listing change is in flight (<see cref="Registration"/>); a join completes only once
/// its rooms list this front end, so a broadcast that starts after it reaches the socket. What may be listed
/// without this front end knowing (a call whose outcome is unknown) is marked dirty and delisted later, so
/// the room grains never miss this front end and only briefly list it too often.
/// </remarks>
internal sealed partial class FrontEndMembership : IAsyncDisposable
{
    /// <summary>How long an emptied room stays listed for this front end.</summary>
    internal static readonly TimeSpan DefaultLinger = TimeSpan.FromSeconds(2);

    private const int MaxEnsureAttempts = 4;
    private const int MaxIdsPerCall = 1000;

    private readonly object _lock = new();
    private readonly Dictionary<string, SocketRooms> _sockets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LocalRoom> _rooms = new(StringComparer.Ordinal);
    private readonly IGrainFactory _grains;
    private readonly int _maxRoomsPerSocket;
    private readonly TimeProvider _time;
    private readonly RoomsMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly ITimer _sweeper;
    private long _stamp;
    private int _sweeping;

    public FrontEndMembership(IGrainFactory grains, string frontEndId, int maxRoomsPerSocket, TimeProvider time, ILogger logger, RoomsMetrics? metrics = null, TimeSpan? linger = null)
    {
        _grains = grains;
        FrontEndId = frontEndId;
        _maxRoomsPerSocket = maxRoomsPerSocket;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        Linger = linger ?? DefaultLinger;
        var tick = TimeSpan.FromTicks(Math.Max(Linger.Ticks / 2, TimeSpan.FromMilliseconds(100).Ticks));
        _sweeper = time.CreateTimer(_ => _ = SweepAsync(), null, tick, tick);
    }

    public string FrontEndId { get; }

    public TimeSpan Linger { get; }

    private IFrontEndRoomsGrain Listing => _grains.GetGrainByKey<IFrontEndRoomsGrain>(FrontEndId);

    /// <summary>A socket this front end now holds, in its own-id room (not yet listed: see <see cref="ListSocketAsync"/>).</summary>
    public void AddSocket(string socketId)
    {
        lock (_lock)
        {
            if (_sockets.ContainsKey(socketId))
            {
                throw new InvalidOperationException($"Socket '{socketId}' is already connected to this front end.");
            }

            _sockets.Add(socketId, new SocketRooms(socketId));
            AddMember(socketId, socketId);
        }
    }

    /// <summary>
    /// Lists a socket added here (<see cref="AddSocket"/>): its location (through <paramref name="via"/> when
    /// given), and this front end in its own-id room.
    /// </summary>
    public async Task ListSocketAsync(string socketId, IGrainFactory? via = null)
    {
        var located = (via ?? _grains).GetGrainByKey<Delivery.IFrontEndGrain>(FrontEndId).Connect(socketId);
        var failed = await EnsureListedAsync([socketId]);
        await located;
        if (failed is not null)
        {
            throw failed[socketId];
        }
    }

    /// <summary>The socket is gone: it leaves every room here at once (the rooms this empties are delisted later).</summary>
    public void RemoveSocket(string socketId)
    {
        string[] left;
        lock (_lock)
        {
            if (!_sockets.Remove(socketId, out var socket))
            {
                return;
            }

            foreach (var room in socket.Rooms)
            {
                RemoveMember(room, socketId);
            }

            left = [.. socket.Rooms.Where(room => room != socketId)];
        }

        Report(socketId, [], left);
    }

    public bool Holds(string socketId)
    {
        lock (_lock)
        {
            return _sockets.ContainsKey(socketId);
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _sockets.Count;
            }
        }
    }

    public string[] SocketIds()
    {
        lock (_lock)
        {
            return [.. _sockets.Keys];
        }
    }

    /// <summary>The rooms of a socket held here (its own-id room included), or null.</summary>
    public string[]? RoomsOf(string socketId)
    {
        lock (_lock)
        {
            return _sockets.TryGetValue(socketId, out var socket) ? [.. socket.Rooms] : null;
        }
    }

    /// <summary>This front end's sockets in <paramref name="room"/>; the array is shared, do not change it.</summary>
    public string[] MembersOf(string room)
    {
        lock (_lock)
        {
            return _rooms.TryGetValue(room, out var local) ? local.Members() : [];
        }
    }

    /// <summary>Those of <paramref name="rooms"/> that have a member here other than the socket the room is named after.</summary>
    public string[] Occupied(string[] rooms)
    {
        lock (_lock)
        {
            return [.. rooms.Where(room => _rooms.TryGetValue(room, out var local) && local.Listable(room))];
        }
    }

    /// <summary>The sockets here in any of <paramref name="rooms"/>, each once, minus <paramref name="except"/>.</summary>
    public IReadOnlyCollection<string> Recipients(string[] rooms, string[]? except)
    {
        lock (_lock)
        {
            if (rooms.Length == 1 && except is null)
            {
                return _rooms.TryGetValue(rooms[0], out var only) ? only.Members() : [];
            }

            var recipients = new HashSet<string>(StringComparer.Ordinal);
            foreach (var room in rooms)
            {
                if (_rooms.TryGetValue(room, out var local))
                {
                    recipients.UnionWith(local.Members());
                }
            }

            if (except is not null)
            {
                recipients.ExceptWith(except);
            }

            return recipients;
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to a socket held here; false when it is not. Completes once every room
    /// joined lists this front end. A join whose rooms could not be told is undone (unless a later change of the
    /// same room took over) and the error thrown; leaves always succeed here.
    /// </summary>
    public async Task<bool> ChangeAsync(string socketId, MembershipChange change)
    {
        SocketRooms socket;
        long stamp;
        List<string>? joined = null, left = null, unlisted = null;
        lock (_lock)
        {
            if (!_sockets.TryGetValue(socketId, out socket!))
            {
                return false;
            }

            var leaves = change.LeaveAll
                ? socket.Rooms.Where(r => !(change.KeepOwnRoom && r == socketId) && r != change.KeepRoom).ToArray()
                : change.Leave;
            var joins = change.Join.Length <= 1 ? change.Join : [.. change.Join.Distinct(StringComparer.Ordinal)];
            if (joins.Length > 0 && CountedAfter(socket, socketId, leaves, joins) is var counted && counted > _maxRoomsPerSocket && counted > socket.Counted())
            {
                throw new RoomLimitExceededException(socketId, _maxRoomsPerSocket, counted);
            }

            foreach (var room in leaves)
            {
                socket.Joining?.Remove(room);
                if (socket.Rooms.Remove(room))
                {
                    RemoveMember(room, socketId);
                    (left ??= []).Add(room);
                }
            }

            stamp = ++_stamp;
            foreach (var room in joins)
            {
                LocalRoom local;
                if (socket.Rooms.Add(room))
                {
                    local = AddMember(room, socketId);
                    (joined ??= []).Add(room);
                }
                else if (socket.Joining?.ContainsKey(room) == true)
                {
                    local = _rooms[room];
                }
                else
                {
                    continue; // in the room already, and its join settled
                }

                if (!local.IsListed(room))
                {
                    // To be listed (or being listed by a join still in flight: this one decides now on undoing it).
                    (socket.Joining ??= new(StringComparer.Ordinal))[room] = stamp;
                    (unlisted ??= []).Add(room);
                }
            }
        }

        Report(socketId, joined, left);
        if (unlisted is null)
        {
            return true; // every room joined lists this front end already: nothing left that could fail
        }

        var failed = await EnsureListedAsync([.. unlisted]);
        List<string>? undone = null;
        lock (_lock)
        {
            foreach (var room in unlisted)
            {
                if (socket.Joining?.GetValueOrDefault(room) != stamp)
                {
                    continue; // settled, or a later change of the room decides
                }

                socket.Joining.Remove(room);
                if (failed?.ContainsKey(room) == true && _sockets.GetValueOrDefault(socketId) == socket && socket.Rooms.Remove(room))
                {
                    RemoveMember(room, socketId);
                    (undone ??= []).Add(room);
                }
            }
        }

        if (failed is null)
        {
            return true;
        }

        Report(socketId, null, undone);
        throw failed.Count == 1 ? failed.First().Value : new AggregateException(failed.Values);
    }

    /// <summary>How many rooms (its own-id room aside) the socket would be in after leaving <paramref name="leaves"/> and joining <paramref name="joins"/> (distinct).</summary>
    private static int CountedAfter(SocketRooms socket, string socketId, string[] leaves, string[] joins)
    {
        var counted = socket.Counted();
        foreach (var room in leaves.Length <= 1 ? leaves : leaves.Distinct(StringComparer.Ordinal))
        {
            if (room != socketId && socket.Rooms.Contains(room))
            {
                counted--;
            }
        }

        foreach (var room in joins)
        {
            if (room != socketId && (!socket.Rooms.Contains(room) || Array.IndexOf(leaves, room) >= 0))
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
    /// Lists this front end again in every room it holds, and every socket's location (after a silo was lost,
    /// or the front-end grain lost its memory or purged this front end while it was alive). Idempotent.
    /// </summary>
    public async Task RebuildAsync()
    {
        List<string> listable = [], ownOnly = [];
        string[] sockets;
        lock (_lock)
        {
            foreach (var (name, room) in _rooms)
            {
                if (room.State is Registration.Listed or Registration.Listing)
                {
                    (room.Listable(name) ? listable : ownOnly).Add(name);
                }
            }

            sockets = [.. _sockets.Keys];
        }

        var calls = new List<Task>();
        foreach (var chunk in sockets.Chunk(MaxIdsPerCall))
        {
            calls.Add(_grains.GetGrainByKey<Delivery.IFrontEndGrain>(FrontEndId).RestoreSockets(chunk));
        }

        foreach (var chunk in listable.Chunk(MaxIdsPerCall))
        {
            calls.Add(Listing.Register(chunk, listable: true, relist: true));
        }

        foreach (var chunk in ownOnly.Chunk(MaxIdsPerCall))
        {
            calls.Add(Listing.Register(chunk, listable: false, relist: true));
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
                    if (!_rooms.TryGetValue(name, out var room))
                    {
                        room = new LocalRoom { Dirty = true, EmptiedAt = _time.GetTimestamp() };
                        _rooms.Add(name, room);
                    }
                    else if (room.State is not (Registration.Listed or Registration.Listing))
                    {
                        room.Dirty = true;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Completes once each of <paramref name="rooms"/> that has members here lists this front end: at once for
    /// rooms listed already, after a call to the front-end rooms grain for each of the others (a room another
    /// change is listing or delisting right now is waited for, then looked at again). Returns the rooms that
    /// could not be listed, each with why; null when all are.
    /// </summary>
    private async Task<Dictionary<string, Exception>?> EnsureListedAsync(string[] rooms)
    {
        Dictionary<string, Exception>? failed = null;
        var remaining = rooms;
        for (var attempt = 1; ; attempt++)
        {
            List<Task<(string Room, Exception? Error)>>? listings = null;
            List<string>? waiting = null;
            List<Task>? waits = null;
            lock (_lock)
            {
                foreach (var name in remaining)
                {
                    if (!_rooms.TryGetValue(name, out var room) || room.MemberCount == 0)
                    {
                        continue; // left meanwhile: nothing to list
                    }

                    if (room.IsListed(name))
                    {
                        continue;
                    }

                    var listable = room.Listable(name);
                    switch (room.State)
                    {
                        case Registration.Listing or Registration.Delisting:
                            (waiting ??= []).Add(name);
                            (waits ??= []).Add(room.Pending);
                            continue;
                        default:
                            var listing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                            room.State = Registration.Listing;
                            room.Pending = listing.Task;
                            (listings ??= []).Add(ListAsync(name, listable, listing));
                            continue;
                    }
                }
            }

            if (listings is not null)
            {
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
                    (failed ??= new(StringComparer.Ordinal))[room] = new TimeoutException($"Front end '{FrontEndId}' could not list itself in room '{room}' after {attempt} attempts: other changes of the room kept failing.");
                }

                return failed;
            }

            await Task.WhenAll(waits!);
            remaining = [.. waiting];
        }
    }

    /// <summary>Lists this front end in one room; the outcome settles the room's state (an unknown one as dirty).</summary>
    private async Task<(string Room, Exception? Error)> ListAsync(string name, bool listable, TaskCompletionSource listing)
    {
        try
        {
            await Listing.Register([name], listable);
            lock (_lock)
            {
                Settle(name, Registration.Listed, listedListable: listable);
            }

            return (name, null);
        }
        catch (Exception ex)
        {
            LogListingFailed(ex, FrontEndId, name);
            lock (_lock)
            {
                // Maybe listed, maybe not: a later join lists it again, and an empty one is delisted.
                Settle(name, Registration.None, listedListable: false, dirty: true);
            }

            return (name, ex);
        }
        finally
        {
            listing.SetResult();
        }
    }

    private void Settle(string name, Registration state, bool listedListable, bool dirty = false)
    {
        var room = _rooms[name];
        room.State = state;
        room.ListedListable = state == Registration.Listed && (listedListable || room.ListedListable);
        room.Dirty = dirty;
        if (room.MemberCount == 0)
        {
            room.EmptiedAt = _time.GetTimestamp();
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
                foreach (var (name, room) in _rooms)
                {
                    if (room.MemberCount == 0
                        && (room.State == Registration.Listed || (room.State == Registration.None && room.Dirty))
                        && _time.GetElapsedTime(room.EmptiedAt) >= Linger)
                    {
                        room.State = Registration.Delisting;
                        room.Pending = delisting.Task;
                        (due ??= []).Add(name);
                    }
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
                    await Listing.Unregister(chunk);
                }

                lock (_lock)
                {
                    foreach (var name in due)
                    {
                        var room = _rooms[name];
                        if (room.MemberCount == 0)
                        {
                            _rooms.Remove(name);
                        }
                        else
                        {
                            room.State = Registration.None; // joined meanwhile: that join lists it again
                            room.Dirty = false;
                        }
                    }
                }
            }
            catch (Exception ex)
            {
                LogDelistingFailed(ex, FrontEndId, due.Count);
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

    public async ValueTask DisposeAsync() => await _sweeper.DisposeAsync();

    private LocalRoom AddMember(string room, string socketId)
    {
        ref var local = ref CollectionsMarshal.GetValueRefOrAddDefault(_rooms, room, out _);
        local ??= new LocalRoom();
        local.Add(socketId);
        return local;
    }

    private void RemoveMember(string room, string socketId)
    {
        if (!_rooms.TryGetValue(room, out var local) || !local.Remove(socketId) || local.MemberCount > 0)
        {
            return;
        }

        if (local.State == Registration.None && !local.Dirty)
        {
            _rooms.Remove(room); // never listed: nothing to delist
        }
        else
        {
            local.EmptiedAt = _time.GetTimestamp();
        }
    }

    private void Report(string socketId, List<string>? joined, IReadOnlyList<string>? left)
    {
        if (joined is null && (left is null || left.Count == 0))
        {
            return;
        }

        _metrics?.MembershipsChanged(joined?.Count ?? 0, left?.Count ?? 0);
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

    [LoggerMessage(3, LogLevel.Warning, "Front end {FrontEndId} could not list itself in room {Room}; the joins that needed it failed.")]
    private partial void LogListingFailed(Exception exception, string frontEndId, string room);

    [LoggerMessage(4, LogLevel.Warning, "Front end {FrontEndId} could not delist itself from {Rooms} emptied rooms; retrying later.")]
    private partial void LogDelistingFailed(Exception exception, string frontEndId, int rooms);

    private enum Registration
    {
        /// <summary>Not listed (unless <see cref="LocalRoom.Dirty"/>: maybe listed).</summary>
        None,
        Listing,
        Listed,
        Delisting,
    }

    /// <summary>One socket's rooms, and its joins in flight, each with the stamp of the change that decides on undoing it.</summary>
    private sealed class SocketRooms(string socketId)
    {
        public HashSet<string> Rooms { get; } = new(StringComparer.Ordinal) { socketId };

        public Dictionary<string, long>? Joining { get; set; }

        public int Counted() => Rooms.Count - (Rooms.Contains(socketId) ? 1 : 0);
    }

    /// <summary>One room's sockets here, and whether the room grain lists this front end.</summary>
    private sealed class LocalRoom
    {
        private readonly HashSet<string> _members = new(StringComparer.Ordinal);
        private string[]? _snapshot;

        public Registration State { get; set; }

        /// <summary>Listed as a room <c>Rooms()</c> shows (not only an own-id room).</summary>
        public bool ListedListable { get; set; }

        /// <summary>May be listed although <see cref="State"/> is <see cref="Registration.None"/>: delist when empty.</summary>
        public bool Dirty { get; set; }

        /// <summary>Completes when the listing change in flight ends.</summary>
        public Task Pending { get; set; } = Task.CompletedTask;

        public long EmptiedAt { get; set; }

        public int MemberCount => _members.Count;

        public void Add(string socketId)
        {
            if (_members.Add(socketId))
            {
                _snapshot = null;
            }
        }

        public bool Remove(string socketId)
        {
            if (!_members.Remove(socketId))
            {
                return false;
            }

            _snapshot = null;
            return true;
        }

        /// <summary>The members as an array made once per change and shared by every reader.</summary>
        public string[] Members() => _snapshot ??= [.. _members];

        /// <summary>Whether <c>Rooms()</c> shows it: it has a member other than the socket it is named after.</summary>
        public bool Listable(string name) => _members.Count > 1 || (_members.Count == 1 && !_members.Contains(name));

        /// <summary>Whether its grain lists this front end as its members need: as a listable room when it is one.</summary>
        public bool IsListed(string name) => State == Registration.Listed && (ListedListable || !Listable(name));
    }
}
