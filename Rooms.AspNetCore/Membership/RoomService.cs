using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Directory;
using Orleans.Rooms.Telemetry;
using Orleans.Runtime;

namespace Orleans.Rooms.Membership;

/// <summary>
/// Drives the cluster for <see cref="IRoomService"/>. A socket's memberships are changed by the front end that
/// holds it: here, when that is this front end; otherwise found through its socket grain and asked through its
/// front-end grain. Room-wide operations ask each front end that holds members of the room to change its own.
/// Broadcasts go once to each front end that holds members of any target room, the payload serialized once.
/// </summary>
/// <remarks>
/// A socket never changes front end (its id is its connection's, and it resumes only where it was held), so
/// where a socket is, once found, is kept: the next change or read of it goes straight to its front end. A
/// front end that no longer holds it answers "unknown", and the socket grain is asked again.
/// Changes are made without the caller's cancellation token: a front end finishes a change it started, and
/// the caller's token only stops the caller from waiting. Changes are idempotent, so a call that meets a silo
/// going away is retried here; a socket grain that lost its socket (its silo went) is restored from the
/// socket's front end before the call is retried.
/// </remarks>
internal sealed class RoomService(
    IGrainFactory grains,
    IOptions<RoomsOptions> options,
    FrontEndMembership? local = null,
    LocalDelivery? localDelivery = null,
    FrontEndLease? localFrontEnd = null,
    RoomsMetrics? metrics = null) : IRoomService, IDisposable
{
    private const int MaxParallelSocketCalls = 64;
    /// <summary>How long transient cluster errors are retried: a silo that stops gracefully rejects calls for a few seconds.</summary>
    private static readonly TimeSpan RetryFor = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>How many sockets of other front ends are remembered where they are (least recently used go first).</summary>
    internal const int LocatedSocketsKept = 100_000;

    private readonly RoomsOptions _options = options.Value;
    private readonly MemoryCache _located = new(new MemoryCacheOptions { SizeLimit = LocatedSocketsKept, CompactionPercentage = 0.25 });

    public void Dispose() => _located.Dispose();

    public Task JoinAsync(SocketTarget sockets, string room, CancellationToken cancellationToken = default)
    {
        ValidateRoom(room, nameof(room));
        var change = MembershipChange.Joining([room]);
        return ForEachSocket(sockets.Resolve(nameof(sockets)), "Join of room '{0}'", room, id => Change(id, change), cancellationToken);
    }

    public Task LeaveAsync(SocketTarget sockets, string room, CancellationToken cancellationToken = default)
    {
        ValidateRoom(room, nameof(room));
        var change = MembershipChange.Leaving([room]);
        return ForEachSocket(sockets.Resolve(nameof(sockets)), "Leave of room '{0}'", room, id => Change(id, change), cancellationToken);
    }

    public Task LeaveAllAsync(string room, LeaveAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateRoom(room, nameof(room));
        options ??= new LeaveAllOptions();
        var change = MembershipChange.LeavingAll(keepOwnRoom: !options.IncludeSocketRooms, keepRoom: options.IncludeSourceRoom ? null : room);
        return ChangeMembers(room, change, "LeaveAll of room '{0}'").WaitAsync(cancellationToken);
    }

    public Task AddRoomMembersToRoomsAsync(string sourceRoom, IEnumerable<string> destRooms, CancellationToken cancellationToken = default)
    {
        ValidateRoom(sourceRoom, nameof(sourceRoom));
        var dest = ValidateRooms(destRooms, nameof(destRooms));
        return ChangeMembers(sourceRoom, MembershipChange.Joining(dest), "AddRoomMembersToRooms from '{0}'").WaitAsync(cancellationToken);
    }

    public Task RemoveRoomMembersFromRoomsAsync(string sourceRoom, IEnumerable<string> destRooms, CancellationToken cancellationToken = default)
    {
        ValidateRoom(sourceRoom, nameof(sourceRoom));
        var dest = ValidateRooms(destRooms, nameof(destRooms));
        return ChangeMembers(sourceRoom, MembershipChange.Leaving(dest), "RemoveRoomMembersFromRooms of '{0}'").WaitAsync(cancellationToken);
    }

    public async Task BroadcastAsync(IEnumerable<string> rooms, string? eventName, object? data, SocketTarget? except = null, CancellationToken cancellationToken = default)
    {
        var targets = ValidateRooms(rooms, nameof(rooms));
        eventName = ValidateEvent(eventName);
        var excluded = except?.Resolve(nameof(except));
        var payload = Serialize(data);

        var frontEnds = targets.Length == 1
            ? await FrontEndsOf(targets[0], cancellationToken)
            : (await Task.WhenAll(targets.Select(r => FrontEndsOf(r, cancellationToken)))).SelectMany(f => f).Distinct(StringComparer.Ordinal).ToArray();
        var batch = new DeliveryBatch(eventName, payload, targets, excluded);
        await Task.WhenAll(frontEnds.Select(id => Deliver(id, batch)));
        metrics?.Broadcast();
    }

    public async Task BlastAsync(string? eventName, object? data, SocketTarget? except = null, CancellationToken cancellationToken = default)
    {
        eventName = ValidateEvent(eventName);
        var excluded = except?.Resolve(nameof(except));
        var payload = Serialize(data);
        var frontEnds = await Retry(() => Registry.GetFrontEnds(), cancellationToken);
        var batch = new DeliveryBatch(eventName, payload, null, excluded);
        await Task.WhenAll(frontEnds.Select(id => Deliver(id, batch)));
        metrics?.Blast();
    }

    public string GetId(HttpContext request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ((SocketTarget)request).Resolve(nameof(request))[0];
    }

    public async Task<IReadOnlyList<string>> SubscribersAsync(string room, CancellationToken cancellationToken = default)
    {
        ValidateRoom(room, nameof(room));
        var frontEnds = await FrontEndsOf(room, cancellationToken);
        var members = await Task.WhenAll(frontEnds.Select(id => id == local?.FrontEndId
            ? Task.FromResult(local.MembersOf(room))
            : Retry(() => FrontEnd(id).GetMembers(room), cancellationToken)));
        return members.Length == 1 ? members[0] : [.. members.SelectMany(m => m)];
    }

    public async Task<IReadOnlyList<string>> SocketRoomsAsync(SocketTarget socket, CancellationToken cancellationToken = default)
    {
        if (!socket.IsSingle)
        {
            throw new ArgumentException("SocketRooms takes one socket, not a list.", nameof(socket));
        }

        var id = socket.Resolve(nameof(socket))[0];
        if (local?.RoomsOf(id) is { } rooms)
        {
            return rooms;
        }

        return await RoomsOfRemote(id).WaitAsync(cancellationToken);
    }

    public async Task<RoomPage> RoomsAsync(string? after = null, int limit = RoomPage.DefaultLimit, CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > RoomPage.MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"limit must be between 1 and {RoomPage.MaxLimit}.");
        }

        // The directory lists a room from its first member until a moment after its last front end delisted
        // it, so the front ends listed in each room are asked which of them have members: the page lists
        // exactly those. One more than a page tells whether another page exists.
        var rooms = new List<string>(limit + 1);
        var cursor = after;
        while (rooms.Count <= limit)
        {
            var wanted = limit + 1 - rooms.Count;
            var listed = await Listed(cursor, wanted, cancellationToken);
            var occupied = await Occupied(listed, cancellationToken);
            rooms.AddRange(listed.Where(occupied.Contains));
            if (listed.Count < wanted)
            {
                break; // the directory has no more
            }

            cursor = listed[^1];
        }

        if (rooms.Count <= limit)
        {
            return new RoomPage(rooms, null);
        }

        rooms.RemoveAt(limit);
        return new RoomPage(rooms, rooms[^1]);
    }

    /// <summary>The first <paramref name="count"/> listed rooms after <paramref name="after"/>: each shard is sorted; ask each for as many and merge.</summary>
    private async Task<List<string>> Listed(string? after, int count, CancellationToken cancellationToken)
    {
        var pages = await Task.WhenAll(Enumerable.Range(0, RoomDirectory.ShardCount)
            .Select(shard => Retry(() => grains.GetGrainByKey<IRoomDirectoryGrain>(shard).Page(after, count), cancellationToken)));
        return pages.SelectMany(p => p).Order(StringComparer.Ordinal).Take(count).ToList();
    }

    /// <summary>Those of <paramref name="rooms"/> that some front end holds members of: each front end listed in any of them is asked once.</summary>
    private async Task<HashSet<string>> Occupied(List<string> rooms, CancellationToken cancellationToken)
    {
        var listings = await Task.WhenAll(rooms.Select(room => Retry(() => Room(room).GetListedFrontEnds(), cancellationToken)));
        var byFrontEnd = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < rooms.Count; i++)
        {
            foreach (var frontEnd in listings[i])
            {
                if (!byFrontEnd.TryGetValue(frontEnd, out var asked))
                {
                    byFrontEnd.Add(frontEnd, asked = []);
                }

                asked.Add(rooms[i]);
            }
        }

        var occupied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var held in await Task.WhenAll(byFrontEnd.Select(kv => kv.Key == local?.FrontEndId
            ? Task.FromResult(local.Occupied([.. kv.Value]))
            : Retry(() => FrontEnd(kv.Key).Occupied([.. kv.Value]), cancellationToken))))
        {
            occupied.UnionWith(held);
        }

        return occupied;
    }

    /// <summary>
    /// Runs <paramref name="action"/> for each socket, at most <see cref="MaxParallelSocketCalls"/> at a time.
    /// The caller's token stops only the waiting: every socket's change runs to the end, so a caller that gives
    /// up leaves no socket half-changed. One named socket: its own exception propagates as is. Otherwise what
    /// succeeded stays applied and a <see cref="PartialFailureException"/> lists the failures.
    /// </summary>
    private static Task ForEachSocket(string[] ids, string operationFormat, string room, Func<string, Task> action, CancellationToken cancellationToken)
        => ForEachSocket(ids, operationFormat, room, action).WaitAsync(cancellationToken);

    private static async Task ForEachSocket(string[] ids, string operationFormat, string room, Func<string, Task> action)
    {
        if (ids.Length == 1)
        {
            await action(ids[0]);
            return;
        }

        var succeeded = new ConcurrentQueue<string>();
        var failures = new ConcurrentQueue<KeyValuePair<string, Exception>>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelSocketCalls }, async (id, _) =>
        {
            try
            {
                await action(id);
                succeeded.Enqueue(id);
            }
            catch (Exception ex)
            {
                failures.Enqueue(new(id, ex));
            }
        });

        if (!failures.IsEmpty)
        {
            throw new PartialFailureException(string.Format(CultureInfo.InvariantCulture, operationFormat, room), [.. succeeded], [.. failures]);
        }
    }

    /// <summary>
    /// Has every front end that holds members of <paramref name="room"/> change them. Each front end changes
    /// its members to the end whatever happens to the caller; a member that disconnected meanwhile has left
    /// every room already, so it is not a failure. What failed is reported by socket (or by front end, when
    /// that front end could not be asked at all) in a <see cref="PartialFailureException"/>.
    /// </summary>
    private async Task ChangeMembers(string room, MembershipChange change, string operationFormat)
    {
        var frontEnds = await FrontEndsOf(room, CancellationToken.None);
        var succeeded = new List<string>();
        var failures = new List<KeyValuePair<string, Exception>>();
        var outcomes = frontEnds.Select(async id =>
        {
            try
            {
                return id == local?.FrontEndId
                    ? await local.ChangeMembersAsync(room, change)
                    : await Retry(() => FrontEnd(id).ChangeMembers(room, change), CancellationToken.None);
            }
            catch (Exception ex)
            {
                lock (failures)
                {
                    failures.Add(new($"front end '{id}'", ex));
                }

                return MembersChangeOutcome.None;
            }
        }).ToArray();

        foreach (var outcome in await Task.WhenAll(outcomes))
        {
            succeeded.AddRange(outcome.Succeeded);
            failures.AddRange(outcome.Failed.Select(f => new KeyValuePair<string, Exception>(f.SocketId, f.Error)));
        }

        if (failures.Count > 0)
        {
            throw new PartialFailureException(string.Format(CultureInfo.InvariantCulture, operationFormat, room), succeeded, failures);
        }
    }

    /// <summary>Changes a socket's rooms on its front end: here when it is held here, else where it was last found, else wherever its socket grain says.</summary>
    private async Task Change(string id, MembershipChange change)
    {
        if (local is not null && await Retry(() => local.ChangeAsync(id, change), CancellationToken.None))
        {
            return;
        }

        if (!await OnFrontEndOf(id, frontEnd => FrontEnd(frontEnd).Change(id, change), changed => changed))
        {
            throw new SocketNotFoundException(id);
        }
    }

    private async Task<IReadOnlyList<string>> RoomsOfRemote(string id)
        => await OnFrontEndOf(id, frontEnd => FrontEnd(frontEnd).GetSocketRooms(id), rooms => rooms is not null) ?? throw new SocketNotFoundException(id);

    /// <summary>
    /// Calls the front end that holds socket <paramref name="id"/>: the one it was last found on, when that one
    /// still <paramref name="holds"/> it by its answer; else the one its socket grain names (then remembered).
    /// An error of the remembered front end is the answer: the socket grain could only name the same one.
    /// </summary>
    private async Task<T> OnFrontEndOf<T>(string id, Func<string, Task<T>> call, Func<T, bool> holds)
    {
        if (_located.TryGetValue(id, out string? known))
        {
            var answer = await Retry(() => call(known!), CancellationToken.None);
            if (holds(answer))
            {
                return answer;
            }

            _located.Remove(id);
        }

        var frontEnd = await Locate(id);
        var result = await Retry(() => call(frontEnd), CancellationToken.None);
        if (holds(result))
        {
            _located.Set(id, frontEnd, new MemoryCacheEntryOptions { Size = 1 });
        }

        return result;
    }

    /// <summary>
    /// The front end that holds the socket, from its socket grain; when the grain does not know a socket that a
    /// front end holds (the grain's silo went), the location is restored from that front end first. Transient
    /// cluster errors are retried.
    /// </summary>
    private async Task<string> Locate(string id)
    {
        try
        {
            return await Retry(() => Socket(id).GetFrontEnd(), CancellationToken.None);
        }
        catch (SocketNotFoundException)
        {
            // The restore meets the same cluster as the call did (a silo may still be going): retried alike.
            if (!await Retry(() => RecoverAsync(id), CancellationToken.None))
            {
                throw;
            }
        }

        return await Retry(() => Socket(id).GetFrontEnd(), CancellationToken.None);
    }

    /// <summary>Asks the socket's front end (this one first, when it holds it) to record the socket's location again.</summary>
    private async Task<bool> RecoverAsync(string id)
    {
        if (localFrontEnd is not null && await localFrontEnd.RestoreAsync(id))
        {
            return true;
        }

        var frontEnds = await Retry(() => Registry.GetFrontEnds(), CancellationToken.None);
        Exception? unanswered = null;
        var answers = await Task.WhenAll(frontEnds.Select(async fe =>
        {
            try
            {
                return await FrontEnd(fe).Recover(id);
            }
            catch (Exception ex)
            {
                unanswered = ex;
                return false;
            }
        }));

        // A front end that could not be asked (its grain's silo is going) may be the one holding the socket:
        // that is not a "no", and the caller's retry asks again rather than calling a live socket unknown.
        if (answers.Contains(true))
        {
            return true;
        }

        return unanswered is null ? false : throw unanswered;
    }

    /// <summary>Hands the batch to a front end: this one directly, any other through its front-end grain.</summary>
    private Task Deliver(string frontEndId, DeliveryBatch batch)
        => frontEndId == local?.FrontEndId && localDelivery is not null ? localDelivery.Deliver(batch) : FrontEnd(frontEndId).Deliver(batch);

    private Task<string[]> FrontEndsOf(string room, CancellationToken cancellationToken)
        => Retry(() => Room(room).GetFrontEnds(cancellationToken), cancellationToken);

    /// <summary>Retries an idempotent call that met a silo going away or a message that was not delivered.</summary>
    private static async Task<T> Retry<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        var started = Environment.TickCount64;
        var delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested && Environment.TickCount64 - started < RetryFor.TotalMilliseconds)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>
    /// Errors of the cluster, not of the call: a silo going away, a message it could not take, a time-out, or
    /// a cancellation (the membership calls take no token, so a cancellation comes from a stopping silo).
    /// </summary>
    private static bool IsTransient(Exception ex)
        => ex is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException or OperationCanceledException;

    private IFrontEndRegistryGrain Registry => grains.GetGrainByKey<IFrontEndRegistryGrain>(IFrontEndRegistryGrain.Key);

    private void ValidateRoom(string? room, string paramName) => Names.ValidateRoom(room, _options.MaxRoomNameLength, paramName);

    private string[] ValidateRooms(IEnumerable<string>? rooms, string paramName)
    {
        ArgumentNullException.ThrowIfNull(rooms, paramName);
        var list = rooms.Distinct(StringComparer.Ordinal).ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("At least one room is required.", paramName);
        }

        foreach (var room in list)
        {
            ValidateRoom(room, paramName);
        }

        return list;
    }

    private string ValidateEvent(string? eventName)
    {
        eventName ??= Names.DefaultEventName;
        Names.ValidateEvent(eventName, _options.MaxEventNameLength, nameof(eventName));
        return eventName;
    }

    private static byte[] Serialize(object? data) => JsonSerializer.SerializeToUtf8Bytes(data, JsonSerializerOptions.Web);

    private ISocketGrain Socket(string id) => grains.GetGrainByKey<ISocketGrain>(id);

    private IRoomGrain Room(string room) => grains.GetGrainByKey<IRoomGrain>(room);

    private IFrontEndGrain FrontEnd(string id) => grains.GetGrainByKey<IFrontEndGrain>(id);
}
