using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Directory;
using Orleans.Rooms.Telemetry;
using Orleans.Runtime;

namespace Orleans.Rooms.Membership;

/// <summary>
/// Drives the grains for <see cref="IRoomService"/>. Room-wide operations read the room's members, then
/// drive each member's socket grain from here, so calls only ever go API → socket grain → room grain.
/// Broadcasts are planned here: one batch per front end, the payload serialized once.
/// </summary>
/// <remarks>
/// Membership changes are sent to the grains without the caller's cancellation token: the grains finish a
/// change they started on every index, and the caller's token only stops the caller from waiting. Changes
/// are idempotent, so a call that meets a silo going away is retried here; a socket grain that lost its
/// socket (its silo went) is restored from the socket's front end before the call is retried.
/// </remarks>
internal sealed class RoomService(
    IGrainFactory grains,
    IOptions<RoomsOptions> options,
    FrontEndLease? localFrontEnd = null,
    RoomsMetrics? metrics = null) : IRoomService
{
    private const int MaxParallelSocketCalls = 64;
    /// <summary>How long transient cluster errors are retried: a silo that stops gracefully rejects calls for a few seconds.</summary>
    private static readonly TimeSpan RetryFor = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    private readonly RoomsOptions _options = options.Value;

    public Task JoinAsync(SocketTarget sockets, string room, CancellationToken cancellationToken = default)
    {
        ValidateRoom(room, nameof(room));
        string[] rooms = [room];
        return ForEachSocket(sockets.Resolve(nameof(sockets)), roomWide: false, "Join of room '{0}'", room, id => Change(id, rooms, (s, via) => s.Join(rooms, via)), cancellationToken);
    }

    public Task LeaveAsync(SocketTarget sockets, string room, CancellationToken cancellationToken = default)
    {
        ValidateRoom(room, nameof(room));
        string[] rooms = [room];
        return ForEachSocket(sockets.Resolve(nameof(sockets)), roomWide: false, "Leave of room '{0}'", room, id => Change(id, [], (s, via) => s.Leave(rooms, via)), cancellationToken);
    }

    public async Task LeaveAllAsync(string room, LeaveAllOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateRoom(room, nameof(room));
        options ??= new LeaveAllOptions();
        var keepRoom = options.IncludeSourceRoom ? null : room;
        var members = await Members(room, cancellationToken);
        await ForEachSocket(IdsOf(members), roomWide: true, "LeaveAll of room '{0}'", room, id => Change(id, [], (s, via) => s.LeaveAll(!options.IncludeSocketRooms, keepRoom, via)), cancellationToken);
    }

    public async Task AddRoomMembersToRoomsAsync(string sourceRoom, IEnumerable<string> destRooms, CancellationToken cancellationToken = default)
    {
        ValidateRoom(sourceRoom, nameof(sourceRoom));
        var dest = ValidateRooms(destRooms, nameof(destRooms));
        var members = await Members(sourceRoom, cancellationToken);
        await ForEachSocket(IdsOf(members), roomWide: true, "AddRoomMembersToRooms from '{0}'", sourceRoom, id => Change(id, dest, (s, via) => s.Join(dest, via)), cancellationToken);
    }

    public async Task RemoveRoomMembersFromRoomsAsync(string sourceRoom, IEnumerable<string> destRooms, CancellationToken cancellationToken = default)
    {
        ValidateRoom(sourceRoom, nameof(sourceRoom));
        var dest = ValidateRooms(destRooms, nameof(destRooms));
        var members = await Members(sourceRoom, cancellationToken);
        await ForEachSocket(IdsOf(members), roomWide: true, "RemoveRoomMembersFromRooms of '{0}'", sourceRoom, id => Change(id, [], (s, via) => s.Leave(dest, via)), cancellationToken);
    }

    public async Task BroadcastAsync(IEnumerable<string> rooms, string? eventName, object? data, SocketTarget? except = null, CancellationToken cancellationToken = default)
    {
        var targets = ValidateRooms(rooms, nameof(rooms));
        eventName = ValidateEvent(eventName);
        var excluded = except?.Resolve(nameof(except));
        var payload = Serialize(data);

        var memberLists = await Task.WhenAll(targets.Select(r => Members(r, cancellationToken)));
        var plan = PlanDeliveries(memberLists, excluded);
        await Task.WhenAll(plan.Select(kv => FrontEnd(kv.Key).Deliver(new DeliveryBatch(eventName, payload, kv.Value, null))));
        metrics?.Broadcast();
    }

    public async Task BlastAsync(string? eventName, object? data, SocketTarget? except = null, CancellationToken cancellationToken = default)
    {
        eventName = ValidateEvent(eventName);
        var excluded = except?.Resolve(nameof(except));
        var payload = Serialize(data);
        var frontEnds = await Retry(() => Registry.GetFrontEnds(), cancellationToken);
        var batch = new DeliveryBatch(eventName, payload, null, excluded);
        await Task.WhenAll(frontEnds.Select(id => FrontEnd(id).Deliver(batch)));
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
        return IdsOf(await Members(room, cancellationToken));
    }

    public async Task<IReadOnlyList<string>> SocketRoomsAsync(SocketTarget socket, CancellationToken cancellationToken = default)
    {
        if (!socket.IsSingle)
        {
            throw new ArgumentException("SocketRooms takes one socket, not a list.", nameof(socket));
        }

        var id = socket.Resolve(nameof(socket))[0];
        return (await OnSocket(id, s => s.GetRooms(cancellationToken)).WaitAsync(cancellationToken)).Rooms;
    }

    public async Task<RoomPage> RoomsAsync(string? after = null, int limit = RoomPage.DefaultLimit, CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > RoomPage.MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"limit must be between 1 and {RoomPage.MaxLimit}.");
        }

        // The directory lists a room from its first join until a moment after it empties (see IRoomGrain),
        // so each listed room is asked whether it has members: the page lists exactly the rooms that do.
        // One more than a page tells whether another page exists.
        var rooms = new List<string>(limit + 1);
        var cursor = after;
        while (rooms.Count <= limit)
        {
            var wanted = limit + 1 - rooms.Count;
            var listed = await Listed(cursor, wanted, cancellationToken);
            var occupied = await Task.WhenAll(listed.Select(room => Retry(() => Room(room).HasMembers(), cancellationToken)));
            rooms.AddRange(listed.Where((_, i) => occupied[i]));
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

    /// <summary>Groups the union of the rooms' members by front end, each socket once, minus the excluded ones.</summary>
    internal static Dictionary<string, string[]> PlanDeliveries(RoomMembers[] rooms, string[]? excluded)
    {
        var plan = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (rooms.Length == 1 && excluded is null)
        {
            // The common case needs no de-duplication: hand the room's own snapshot arrays through.
            foreach (var group in rooms[0].ByFrontEnd)
            {
                plan[group.FrontEndId] = group.SocketIds;
            }

            return plan;
        }

        var sets = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var room in rooms)
        {
            foreach (var group in room.ByFrontEnd)
            {
                if (!sets.TryGetValue(group.FrontEndId, out var set))
                {
                    set = new HashSet<string>(group.SocketIds.Length, StringComparer.Ordinal);
                    sets.Add(group.FrontEndId, set);
                }

                set.UnionWith(group.SocketIds);
            }
        }

        foreach (var (frontEndId, set) in sets)
        {
            if (excluded is not null)
            {
                set.ExceptWith(excluded);
            }

            if (set.Count > 0)
            {
                plan[frontEndId] = [.. set];
            }
        }

        return plan;
    }

    /// <summary>
    /// Runs <paramref name="action"/> for each socket, at most <see cref="MaxParallelSocketCalls"/> at a time.
    /// The caller's token stops only the waiting: every socket's change runs to the end on every index, so a
    /// caller that gives up leaves no socket half-changed and no room half-processed.
    /// One named socket: its own exception propagates as is. Otherwise what succeeded stays applied and a
    /// <see cref="PartialFailureException"/> (described only when something failed) lists the failures.
    /// For a room-wide operation, a member that disconnected since the room was read has left every room
    /// already, so its not-found is not a failure.
    /// </summary>
    private static Task ForEachSocket(string[] ids, bool roomWide, string operationFormat, string room, Func<string, Task> action, CancellationToken cancellationToken)
        => ForEachSocket(ids, roomWide, operationFormat, room, action).WaitAsync(cancellationToken);

    private static async Task ForEachSocket(string[] ids, bool roomWide, string operationFormat, string room, Func<string, Task> action)
    {
        if (ids.Length == 1 && !roomWide)
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
            catch (SocketNotFoundException) when (roomWide)
            {
                // Disconnected in the meantime: nothing is left to change for it.
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

    /// <summary>All members' ids; a room on one front end hands out its (immutable) snapshot array as is.</summary>
    private static string[] IdsOf(RoomMembers members)
        => members.ByFrontEnd.Length == 1 ? members.ByFrontEnd[0].SocketIds : [.. members.ByFrontEnd.SelectMany(g => g.SocketIds)];

    private Task<RoomMembers> Members(string room, CancellationToken cancellationToken)
        => Retry(() => Room(room).GetMembers(cancellationToken), cancellationToken);

    /// <summary>
    /// Changes a socket's rooms through its grain. A socket held by this front end has its record kept here:
    /// joins are recorded before the call and the grain's answer is applied after it, so the grain need not
    /// call this front end back. Any other socket's front end is told by the grain.
    /// </summary>
    private async Task Change(string id, string[] joining, Func<ISocketGrain, string?, Task<RoomsChange>> call)
    {
        if (localFrontEnd is not { } local || local.RecordOf(id) is not { } record)
        {
            await OnSocket(id, s => call(s, null));
            return;
        }

        record.BeginOwnChange(joining);
        RoomsChange? answer = null;
        RoomsSnapshot? current = null;
        try
        {
            answer = await OnSocket(id, s => call(s, local.Id));
        }
        catch (Exception)
        {
            // Failed, or the outcome is unknown: read what the grain holds now, so the record keeps no join the
            // grain undid. If even that fails the joins stay recorded (restoring too much, never too little).
            current = await ReadRooms(id);
            throw;
        }
        finally
        {
            record.EndOwnChange(joining, answer, current);
        }
    }

    private async Task<RoomsSnapshot?> ReadRooms(string id)
    {
        try
        {
            return await Retry(() => Socket(id).GetRooms(), CancellationToken.None);
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>
    /// Calls the socket's grain; when the grain does not know a socket that a front end holds (the grain's
    /// silo went), restores it from that front end and calls again. Transient cluster errors are retried.
    /// </summary>
    private async Task<T> OnSocket<T>(string id, Func<ISocketGrain, Task<T>> call)
    {
        try
        {
            return await Retry(() => call(Socket(id)), CancellationToken.None);
        }
        catch (SocketNotFoundException)
        {
            // The restore meets the same cluster as the call did (a silo may still be going): retried alike.
            if (!await Retry(() => RecoverAsync(id), CancellationToken.None))
            {
                throw;
            }
        }

        return await Retry(() => call(Socket(id)), CancellationToken.None);
    }

    /// <summary>Asks the socket's front end (this one first, when it holds it) to restore the socket's grain.</summary>
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
