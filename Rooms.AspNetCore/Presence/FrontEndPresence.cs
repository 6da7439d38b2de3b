using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Presence;

/// <summary>
/// The presence entries of this front end's sockets (docs/presence.md): per room, each tracked socket's key and
/// meta. The front end holds the connections, so it is the source every room's presence is rebuilt from.
/// Changes go to the room's grain in order, through one queue per room with at most one call in flight:
/// what arrives meanwhile goes together in the next call, so a thousand sockets tracking at once cost a few calls.
/// A socket that just tracked is sent <c>presence_state</c> from the call's answer (with the answer to its request,
/// when it tracked in one: <see cref="SocketReply"/>).
/// </summary>
/// <remarks>
/// A socket that leaves a room (any way: a leave, a room-wide change, a disconnect) leaves its presence there
/// (<see cref="Left"/>); a socket that moves to another front end takes its entries with it, silently
/// (<see cref="Take"/>, <see cref="AdoptAsync"/>). With no entry here, every path costs a read of one counter.
/// </remarks>
internal sealed partial class FrontEndPresence
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, Entry>> _byRoom = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _roomsBySocket = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RoomQueue> _queues = new(StringComparer.Ordinal);
    private readonly IClusterDoor _door;
    private readonly ISocketOutbox _outbox;
    private readonly FrontEndMembership _membership;
    private readonly ILogger _logger;
    private readonly TimeSpan _diffDelay;
    private int _entries;

    public FrontEndPresence(IClusterDoor door, ISocketOutbox outbox, FrontEndMembership membership, IOptions<PresenceOptions> options, ILogger<FrontEndPresence> logger)
    {
        _door = door;
        _outbox = outbox;
        _membership = membership;
        _logger = logger;
        _diffDelay = options.Value.DiffDelay;
        membership.RoomsLeft = Left;
        membership.PresenceTaken = Take;
    }

    /// <summary>Entries held here (every socket and room).</summary>
    public int Count => Volatile.Read(ref _entries);

    /// <summary>
    /// Tracks a socket that is in the room (asked under this lock, so a leave that came first is seen, and one that
    /// comes after finds the entry and untracks it); with <paramref name="key"/> null, updates the meta of a socket
    /// tracked here. Completes once the room's grain has it, after <c>presence_state</c> was queued to the
    /// socket (a track). A <paramref name="listing"/> goes in the same call as the entry (alone, when the track is refused).
    /// </summary>
    public async Task TrackAsync(string socketId, string room, string? key, byte[] appMeta, Listing? listing = null)
    {
        var meta = PresenceJson.Meta(socketId, appMeta);
        var purpose = key is null ? Purpose.None : Purpose.Track;
        Task<OutgoingEvent?> applied;
        Entry entry;
        Entry? previous;
        lock (_lock)
        {
            previous = EntryOf(socketId, room);
            Exception? refused = key is null
                ? previous is null ? new PresenceNotTrackedException(socketId, room) : null
                : !_membership.IsIn(socketId, room) ? new InvalidOperationException($"Socket '{socketId}' left room '{room}' while it was being tracked there.") : null;
            if (refused is not null)
            {
                if (listing is not null)
                {
                    _ = Enqueue(room, change: null, Purpose.None, listing); // the join that asked for it still needs it
                }

                throw refused;
            }

            key ??= previous!.Key;
            entry = new Entry(key, meta);
            Set(socketId, room, entry);
            applied = Enqueue(room, new PresenceChange(socketId, key, meta, Tracked: true), purpose, listing);
        }

        OutgoingEvent? state;
        try
        {
            state = await applied;
        }
        catch
        {
            // Maybe applied, maybe not: set back as it was, both here and there (idempotent), unless changed since.
            lock (_lock)
            {
                if (EntryOf(socketId, room) == entry)
                {
                    if (previous is null)
                    {
                        Unset(socketId, room);
                        _ = Observe(Enqueue(room, new PresenceChange(socketId, entry.Key, entry.Meta, Tracked: false), Purpose.None), room);
                    }
                    else
                    {
                        Set(socketId, room, previous);
                        _ = Observe(Enqueue(room, new PresenceChange(socketId, previous.Key, previous.Meta, Tracked: true), Purpose.None), room);
                    }
                }
            }

            throw;
        }

        if (state is not null)
        {
            SocketReply.SendBeforeAnswer(_outbox, socketId, state);
        }
    }

    /// <summary>Stops tracking the socket in the room (it stays a member); nothing to do when it is not tracked there.</summary>
    public Task UntrackAsync(string socketId, string room)
    {
        lock (_lock)
        {
            return EntryOf(socketId, room) is { } entry && Unset(socketId, room)
                ? Enqueue(room, new PresenceChange(socketId, entry.Key, entry.Meta, Tracked: false), Purpose.None)
                : Task.CompletedTask;
        }
    }

    /// <summary>The socket left these rooms: its entries there leave (the grain is told without anyone waiting).</summary>
    public void Left(string socketId, IReadOnlyCollection<string> rooms)
    {
        if (Count == 0 || rooms.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            if (!_roomsBySocket.ContainsKey(socketId))
            {
                return;
            }

            foreach (var room in rooms)
            {
                if (EntryOf(socketId, room) is { } entry && Unset(socketId, room))
                {
                    _ = Observe(Enqueue(room, new PresenceChange(socketId, entry.Key, entry.Meta, Tracked: false), Purpose.None), room);
                }
            }
        }
    }

    /// <summary>The socket moves to another front end: its entries leave this one silently, and go with it.</summary>
    public PresenceEntry[] Take(string socketId)
    {
        if (Count == 0)
        {
            return [];
        }

        lock (_lock)
        {
            var taken = EntriesOf(socketId);
            foreach (var entry in taken)
            {
                Unset(socketId, entry.Room);
            }

            return taken;
        }
    }

    /// <summary>
    /// A socket that moved here with its entries (<see cref="Take"/>'s): held here now, and their grains told they
    /// belong to this front end, without a diff.
    /// </summary>
    public Task AdoptAsync(string socketId, PresenceEntry[] taken)
    {
        if (taken.Length == 0)
        {
            return Task.CompletedTask;
        }

        var calls = new List<Task>(taken.Length);
        lock (_lock)
        {
            foreach (var moved in taken)
            {
                Set(socketId, moved.Room, new Entry(moved.Key, moved.Meta));
                calls.Add(Enqueue(moved.Room, new PresenceChange(socketId, moved.Key, moved.Meta, Tracked: true), Purpose.None));
            }
        }

        return Task.WhenAll(calls);
    }

    /// <summary>Lists every entry again, per room (the cluster lost a silo, maybe with rooms' grains). Idempotent.</summary>
    public Task RelistAllAsync()
    {
        if (Count == 0)
        {
            return Task.CompletedTask;
        }

        var calls = new List<Task>();
        lock (_lock)
        {
            foreach (var (room, entries) in _byRoom)
            {
                foreach (var (socketId, entry) in entries)
                {
                    calls.Add(Enqueue(room, new PresenceChange(socketId, entry.Key, entry.Meta, Tracked: true), Purpose.Relist));
                }
            }
        }

        return Task.WhenAll(calls);
    }

    /// <summary>The socket's entries here (its record in the cluster keeps them: docs/design.md, "Surviving a front end").</summary>
    public PresenceEntry[] EntriesOf(string socketId)
    {
        if (Count == 0)
        {
            return [];
        }

        lock (_lock)
        {
            return _roomsBySocket.TryGetValue(socketId, out var rooms) ? [.. rooms.Select(room => new PresenceEntry(room, _byRoom[room][socketId].Key, _byRoom[room][socketId].Meta))] : [];
        }
    }

    /// <summary>This front end's entries in a room: a read while the room's grain may have lost some.</summary>
    public PresenceEntry[] EntriesIn(string room)
    {
        lock (_lock)
        {
            return _byRoom.TryGetValue(room, out var entries) ? [.. entries.Values.Select(e => new PresenceEntry(room, e.Key, e.Meta))] : [];
        }
    }

    private Entry? EntryOf(string socketId, string room)
        => _byRoom.TryGetValue(room, out var entries) ? entries.GetValueOrDefault(socketId) : null;

    private void Set(string socketId, string room, Entry entry)
    {
        if (!_byRoom.TryGetValue(room, out var entries))
        {
            _byRoom[room] = entries = new(StringComparer.Ordinal);
        }

        if (!entries.TryAdd(socketId, entry))
        {
            entries[socketId] = entry;
            return;
        }

        if (!_roomsBySocket.TryGetValue(socketId, out var rooms))
        {
            _roomsBySocket[socketId] = rooms = new(StringComparer.Ordinal);
        }

        rooms.Add(room);
        Interlocked.Increment(ref _entries);
    }

    private bool Unset(string socketId, string room)
    {
        if (!_byRoom.TryGetValue(room, out var entries) || !entries.Remove(socketId))
        {
            return false;
        }

        if (entries.Count == 0)
        {
            _byRoom.Remove(room);
        }

        if (_roomsBySocket.TryGetValue(socketId, out var rooms) && rooms.Remove(room) && rooms.Count == 0)
        {
            _roomsBySocket.Remove(socketId);
        }

        Interlocked.Decrement(ref _entries);
        return true;
    }

    /// <summary>
    /// Queues a change for the room's grain (under the lock); the task completes once the grain has it, with the
    /// room's <c>presence_state</c> for a track.
    /// </summary>
    private Task<OutgoingEvent?> Enqueue(string room, PresenceChange? change, Purpose purpose, Listing? listing = null)
    {
        if (!_queues.TryGetValue(room, out var queue))
        {
            _queues[room] = queue = new RoomQueue();
        }

        var item = new QueuedChange(change, purpose, new TaskCompletionSource<OutgoingEvent?>(TaskCreationOptions.RunContinuationsAsynchronously), listing);
        queue.Items.Add(item);
        if (!queue.Sending)
        {
            queue.Sending = true;
            _ = SendAsync(room, queue);
        }

        return item.Done.Task;
    }

    /// <summary>Sends a room's queued changes, all that are there at each turn (relistings apart), one call at a time.</summary>
    private async Task SendAsync(string room, RoomQueue queue)
    {
        await Task.Yield(); // the caller that started it goes on; what others queue meanwhile joins the first call
        while (true)
        {
            QueuedChange[] items;
            lock (_lock)
            {
                if (queue.Items.Count == 0)
                {
                    queue.Sending = false;
                    _queues.Remove(room);
                    return;
                }

                var relist = queue.Items[0].Purpose == Purpose.Relist;
                var count = 1;
                while (count < queue.Items.Count && (queue.Items[count].Purpose == Purpose.Relist) == relist)
                {
                    count++;
                }

                items = new QueuedChange[count];
                queue.Items.CopyTo(0, items, 0, count);
                queue.Items.RemoveRange(0, count);
            }

            try
            {
                int changes = 0, trackers = 0;
                bool list = false, listable = false;
                foreach (var item in items)
                {
                    changes += item.Change is null ? 0 : 1;
                    trackers += item.Purpose == Purpose.Track ? 1 : 0;
                    list |= item.Listing is not null;
                    listable |= item.Listing?.Listable == true;
                }

                var batchChanges = new PresenceChange[changes];
                var stateTo = trackers == 0 ? null : new string[trackers];
                (changes, trackers) = (0, 0);
                foreach (var item in items)
                {
                    if (item.Change is not null)
                    {
                        batchChanges[changes++] = item.Change;
                    }

                    if (item.Purpose == Purpose.Track)
                    {
                        stateTo![trackers++] = item.Change!.SocketId;
                    }
                }

                var batch = new PresenceBatch(batchChanges, stateTo, Relist: items[0].Purpose == Purpose.Relist, _diffDelay, list, listable);
                var state = await _door.PresenceAsync(room, batch);
                var message = state is null ? null : new OutgoingEvent(PresenceEvents.State, PresenceJson.StateEvent(room, state), Guid.NewGuid());
                foreach (var item in items)
                {
                    item.Listing?.Done.TrySetResult();
                    item.Done.TrySetResult(item.Purpose == Purpose.Track ? message : null);
                }
            }
            catch (Exception ex)
            {
                foreach (var item in items)
                {
                    item.Listing?.Done.TrySetException(ex);
                    item.Done.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>A change nobody waits for: its failure is logged (the grain misses it until the front end relists).</summary>
    private async Task Observe(Task change, string room)
    {
        try
        {
            await change;
        }
        catch (Exception ex)
        {
            LogChangeFailed(ex, room);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "A presence change in room {Room} could not be told to its room grain.")]
    private partial void LogChangeFailed(Exception exception, string room);

    private enum Purpose
    {
        None,
        Track,
        Relist,
    }

    private sealed record Entry(string Key, byte[] Meta);

    /// <summary>
    /// This front end's listing in a room, to ride with a track's entry (<see cref="PresenceBatch.List"/>): a track joined
    /// a room new here. <paramref name="Done"/> completes with the call that carries it.
    /// </summary>
    internal sealed record Listing(bool Listable, TaskCompletionSource Done);

    /// <summary>A change, a change with its room's listing, or (a null change) a listing alone.</summary>
    private sealed record QueuedChange(PresenceChange? Change, Purpose Purpose, TaskCompletionSource<OutgoingEvent?> Done, Listing? Listing);

    private sealed class RoomQueue
    {
        public List<QueuedChange> Items { get; } = [];

        public bool Sending { get; set; }
    }
}
