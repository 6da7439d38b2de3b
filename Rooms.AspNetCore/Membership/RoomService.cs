using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Errors;
using Orleans.Rooms.Directory;
using Orleans.Rooms.Presence;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.Membership;

/// <summary>
/// <see cref="IRoomService"/>: checks the arguments, then drives the front ends. A socket's memberships are
/// changed by the front end that holds it (<see cref="FrontEndRouter.OnFrontEndOf"/>); room-wide operations ask
/// each front end that holds members of the room to change its own; broadcasts go once to each front end that
/// holds members of any target room, the payload serialized once. Every call into the cluster goes through the
/// door (<see cref="IClusterDoor"/>), which retries what the cluster's healing makes fail.
/// </summary>
/// <remarks>
/// Changes are made without the caller's cancellation token: a front end finishes a change it started, and the
/// caller's token only stops the caller from waiting (docs/guarantees.md, "No half states").
/// </remarks>
internal sealed class RoomService(IClusterDoor door, FrontEndRouter router, IOptions<RoomsOptions> options, IOptions<PresenceOptions> presenceOptions, RoomsMetrics metrics) : IRoomService
{
    /// <summary>Sockets changed at once by one call that names many.</summary>
    private const int MaxParallelSocketChanges = 64;

    /// <summary>No meta: an empty object (shared, never written to).</summary>
    private static readonly byte[] EmptyMeta = "{}"u8.ToArray();

    private readonly RoomsOptions _options = options.Value;
    private readonly PresenceOptions _presence = presenceOptions.Value;

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
        var excluded = Excluded(except);
        var payload = Serialize(data);

        var frontEnds = await FrontEndsOf(targets, cancellationToken);
        var batch = new DeliveryBatch(eventName, payload, targets, excluded, Guid.NewGuid());
        await Task.WhenAll(frontEnds.Select(id => router.Get(id).Deliver(batch)));
        metrics.Broadcast();
    }

    public async Task BlastAsync(string? eventName, object? data, SocketTarget? except = null, CancellationToken cancellationToken = default)
    {
        eventName = ValidateEvent(eventName);
        var excluded = Excluded(except);
        var payload = Serialize(data);
        var frontEnds = await door.FrontEndsAsync(cancellationToken);
        var batch = new DeliveryBatch(eventName, payload, null, excluded, Guid.NewGuid());
        await Task.WhenAll(frontEnds.Select(id => router.Get(id).Deliver(batch)));
        metrics.Blast();
    }

    public string GetId(HttpContext request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ((SocketTarget)request).Resolve(nameof(request))[0];
    }

    public async Task<IReadOnlyList<string>> SubscribersAsync(string room, CancellationToken cancellationToken = default)
    {
        ValidateRoom(room, nameof(room));
        var frontEnds = await FrontEndsOf([room], cancellationToken);
        var members = await Task.WhenAll(frontEnds.Select(id => router.Get(id).GetMembers(room))).WaitAsync(cancellationToken);
        // A socket moving between front ends is held by both for a moment (docs/design.md, "Moving a socket").
        return members.Length == 1 ? members[0] : [.. members.SelectMany(m => m).Distinct(StringComparer.Ordinal)];
    }

    public async Task<IReadOnlyList<string>> SocketRoomsAsync(SocketTarget socket, CancellationToken cancellationToken = default)
    {
        if (!socket.IsSingle)
        {
            throw RoomsErrors.Refusal("SocketRooms takes one socket, not a list.", nameof(socket));
        }

        var id = socket.Resolve(nameof(socket))[0];
        return await router.OnFrontEndOf(id, frontEnd => frontEnd.GetSocketRooms(id), rooms => rooms is not null).WaitAsync(cancellationToken)
            ?? throw new SocketNotFoundException(id);
    }

    public Task TrackAsync(SocketTarget socket, string room, string? key = null, object? meta = null, CancellationToken cancellationToken = default)
    {
        var id = SingleSocket(socket, "Track");
        ValidateRoom(room, nameof(room));
        key ??= UserOf(socket.Request) ?? id;
        ValidateKey(key);
        return Change(id, MembershipChange.Tracking(room, key, SerializeMeta(meta))).WaitAsync(cancellationToken);
    }

    public Task UntrackAsync(SocketTarget socket, string room, CancellationToken cancellationToken = default)
    {
        var id = SingleSocket(socket, "Untrack");
        ValidateRoom(room, nameof(room));
        return Change(id, MembershipChange.Untracking(room)).WaitAsync(cancellationToken);
    }

    public Task UpdatePresenceAsync(SocketTarget socket, string room, object? meta, CancellationToken cancellationToken = default)
    {
        var id = SingleSocket(socket, "UpdatePresence");
        ValidateRoom(room, nameof(room));
        return Change(id, MembershipChange.UpdatingPresence(room, SerializeMeta(meta))).WaitAsync(cancellationToken);
    }

    public async Task<RoomPresence> PresenceAsync(string room, CancellationToken cancellationToken = default)
    {
        ValidateRoom(room, nameof(room));
        var state = await door.PresenceStateAsync(room, cancellationToken);
        if (state.Complete)
        {
            return new RoomPresence(room, state.State, state.Version);
        }

        // The room's grain may have lost presence entries with a silo, before their front ends listed them again
        // (docs/design.md, "Healing"): each attached front end answers for its own sockets.
        var frontEnds = await door.FrontEndsAsync(cancellationToken);
        var held = await Task.WhenAll(frontEnds.Select(id => router.Get(id).GetPresence(room))).WaitAsync(cancellationToken);
        return new RoomPresence(room, PresenceJson.State([.. held.SelectMany(h => h).Select(e => (e.Key, e.Meta))]), state.Version);
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

    /// <summary>
    /// The first <paramref name="count"/> listed rooms after <paramref name="after"/>: each shard is sorted; ask
    /// each for as many and merge. A shard that may be partial (activated anew as the cluster heals) has its page
    /// completed by every attached front end's own rooms of that shard.
    /// </summary>
    private async Task<List<string>> Listed(string? after, int count, CancellationToken cancellationToken)
    {
        var pages = await Task.WhenAll(Enumerable.Range(0, RoomDirectory.ShardCount).Select(async shard =>
        {
            var page = await door.DirectoryPageAsync(shard, after, count, cancellationToken);
            if (page.Complete)
            {
                return (IEnumerable<string>)page.Rooms;
            }

            var frontEnds = await door.FrontEndsAsync(cancellationToken);
            var held = await Task.WhenAll(frontEnds.Select(id => router.Get(id).ListedRooms(shard, after, count)));
            return page.Rooms.Concat(held.SelectMany(h => h)).Distinct(StringComparer.Ordinal);
        }));
        return pages.SelectMany(p => p).Order(StringComparer.Ordinal).Take(count).ToList();
    }

    /// <summary>Those of <paramref name="rooms"/> that some front end holds members of: each front end listed in any of them is asked once.</summary>
    private async Task<HashSet<string>> Occupied(List<string> rooms, CancellationToken cancellationToken)
    {
        var listings = await Task.WhenAll(rooms.Select(room => door.ListedFrontEndsOfAsync(room, cancellationToken)));
        var everyFrontEnd = listings.All(l => l.Complete) ? null : await door.FrontEndsAsync(cancellationToken);
        var byFrontEnd = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < rooms.Count; i++)
        {
            foreach (var frontEnd in listings[i].Complete ? listings[i].FrontEnds : listings[i].FrontEnds.Union(everyFrontEnd!, StringComparer.Ordinal))
            {
                if (!byFrontEnd.TryGetValue(frontEnd, out var asked))
                {
                    byFrontEnd.Add(frontEnd, asked = []);
                }

                asked.Add(rooms[i]);
            }
        }

        var occupied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var held in await Task.WhenAll(byFrontEnd.Select(kv => router.Get(kv.Key).Occupied([.. kv.Value]))).WaitAsync(cancellationToken))
        {
            occupied.UnionWith(held);
        }

        return occupied;
    }

    /// <summary>
    /// Runs <paramref name="action"/> for each socket, at most <see cref="MaxParallelSocketChanges"/> at a time.
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
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelSocketChanges }, async (id, _) =>
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
        var frontEnds = await FrontEndsOf([room], CancellationToken.None);
        var succeeded = new List<string>();
        var failures = new List<KeyValuePair<string, Exception>>();
        var outcomes = frontEnds.Select(async id =>
        {
            try
            {
                return await router.Get(id).ChangeMembers(room, change);
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

    /// <summary>
    /// The front ends that hold members of any of <paramref name="rooms"/>, as their grains list them; while a
    /// list may be partial (its grain was activated anew as the cluster heals, docs/design.md, "Healing"), every
    /// attached front end too: each answers for its own members, so nobody whose join completed is missed. A room
    /// named after a socket adds the socket's front end, which does not list its sockets' own-id rooms
    /// (docs/design.md, "Locating a socket"), read beside the room grain.
    /// </summary>
    private async Task<string[]> FrontEndsOf(string[] rooms, CancellationToken cancellationToken)
    {
        if (rooms.Length == 1)
        {
            var holder = router.HolderOfAsync(rooms[0]);
            var only = await door.FrontEndsOfAsync(rooms[0], cancellationToken);
            var listed = only.Complete ? only.FrontEnds : [.. only.FrontEnds.Union(await door.FrontEndsAsync(cancellationToken), StringComparer.Ordinal)];
            return await holder is { } socketHolder && !listed.Contains(socketHolder, StringComparer.Ordinal) ? [.. listed, socketHolder] : listed;
        }

        var holders = rooms.Select(room => router.HolderOfAsync(room).AsTask()).ToArray();
        var listings = await Task.WhenAll(rooms.Select(room => door.FrontEndsOfAsync(room, cancellationToken)));
        var frontEnds = listings.SelectMany(l => l.FrontEnds);
        if (!listings.All(l => l.Complete))
        {
            frontEnds = frontEnds.Concat(await door.FrontEndsAsync(cancellationToken));
        }

        frontEnds = frontEnds.Concat((await Task.WhenAll(holders)).OfType<string>());
        return [.. frontEnds.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Changes a socket's rooms on the front end that holds it.</summary>
    private async Task Change(string id, MembershipChange change)
    {
        if (!await router.OnFrontEndOf(id, frontEnd => frontEnd.Change(id, change), changed => changed))
        {
            throw new SocketNotFoundException(id);
        }
    }

    private static string SingleSocket(SocketTarget socket, string operation)
    {
        if (!socket.IsSingle)
        {
            throw RoomsErrors.Refusal($"{operation} takes one socket, not a list.", nameof(socket));
        }

        return socket.Resolve(nameof(socket))[0];
    }

    /// <summary>The authenticated user of a socket request: claim <c>nameidentifier</c>, else the name.</summary>
    private static string? UserOf(HttpContext? request)
        => request?.User is { Identity.IsAuthenticated: true } user
            ? user.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value ?? user.Identity?.Name
            : null;

    private void ValidateKey(string key)
    {
        try
        {
            Names.ValidateName(key, _presence.MaxKeyLength, nameof(key), "presence key");
        }
        catch (ArgumentException ex) when (RoomsErrors.Refused(ex))
        {
            // Marked, and passed on as it is.
        }
    }

    /// <summary>A meta as compact JSON: an object (null is <c>{}</c>), without <c>ref</c> (the service sets it), within the limit.</summary>
    private byte[] SerializeMeta(object? meta)
    {
        if (meta is null)
        {
            return EmptyMeta;
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(meta, JsonSerializerOptions.Web);
        if (json.Length > _presence.MaxMetaBytes)
        {
            throw RoomsErrors.Refusal($"A presence meta may be at most {_presence.MaxMetaBytes} bytes serialized (Rooms:Presence:MaxMetaBytes); this one is {json.Length}.", nameof(meta));
        }

        // Read, not parsed into a document: the top level must be an object without a "ref" property.
        var reader = new Utf8JsonReader(json);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw RoomsErrors.Refusal($"A presence meta must be a JSON object, not {KindOf(reader.TokenType)}.", nameof(meta));
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(PresenceJson.RefProperty))
            {
                throw RoomsErrors.Refusal($"A presence meta must not have a '{PresenceJson.RefProperty}' property: the service sets it to the socket's id.", nameof(meta));
            }

            reader.Read();
            reader.Skip();
        }

        return json;
    }

    private static string KindOf(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        _ => "null",
    };

    /// <summary>The sockets an <c>except</c> leaves out; none for null or <see cref="SocketTarget.None"/>.</summary>
    private static string[]? Excluded(SocketTarget? except) => except is { IsNone: false } target ? target.Resolve(nameof(except)) : null;

    private void ValidateRoom(string? room, string paramName)
    {
        try
        {
            Names.ValidateRoom(room, _options.MaxRoomNameLength, paramName);
        }
        catch (ArgumentException ex) when (RoomsErrors.Refused(ex))
        {
            // Marked as the room service's refusal (a 400 without app code), and passed on as it is.
        }
    }

    private string[] ValidateRooms(IEnumerable<string>? rooms, string paramName)
    {
        ArgumentNullException.ThrowIfNull(rooms, paramName);
        var list = rooms.Distinct(StringComparer.Ordinal).ToArray();
        if (list.Length == 0)
        {
            throw RoomsErrors.Refusal("At least one room is required.", paramName);
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
        try
        {
            Names.ValidateEvent(eventName, _options.MaxEventNameLength, nameof(eventName));
        }
        catch (ArgumentException ex) when (RoomsErrors.Refused(ex))
        {
            // Marked, and passed on as it is.
        }

        return eventName;
    }

    private static byte[] Serialize(object? data) => JsonSerializer.SerializeToUtf8Bytes(data, JsonSerializerOptions.Web);
}
