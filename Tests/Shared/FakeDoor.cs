using System.Collections.Concurrent;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Tests.Shared;

/// <summary>
/// The cluster as one front end's listing state machine sees it, in memory: which rooms list this front end and
/// where its sockets are, every call counted, with a way to hold listing calls open (<see cref="HoldListings"/>)
/// and to make them fail (<see cref="FailListingsWith"/>). What the state machine never calls throws.
/// </summary>
internal sealed class FakeDoor : IClusterDoor
{
    private readonly object _lock = new();
    private readonly HashSet<string> _listed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _listedListable = new(StringComparer.Ordinal);
    private TaskCompletionSource? _hold;
    private Exception? _failNext;

    /// <summary>Every call, in order, as "list a,b", "relist a", "delist a", "disconnect s", "relist-sockets s", "presence a +s".</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>Thrown by every listing call while set (the call's outcome unknown: it may have listed the rooms).</summary>
    public Exception? FailListingsWith { get; set; }

    /// <summary>Thrown by the next listing call only (after it listed the rooms, as a reply lost on the way back).</summary>
    public Exception? FailNextListingWith
    {
        get => _failNext;
        set => _failNext = value;
    }

    public ConcurrentDictionary<string, byte> Connected { get; } = new(StringComparer.Ordinal);

    /// <summary>The rooms that list this front end now.</summary>
    public string[] Listed()
    {
        lock (_lock)
        {
            return [.. _listed.Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>The rooms that list this front end as a room <c>Rooms()</c> shows.</summary>
    public string[] ListedListable()
    {
        lock (_lock)
        {
            return [.. _listedListable.Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>From now on, listing calls wait until <see cref="Release"/>.</summary>
    public void HoldListings() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Interlocked.Exchange(ref _hold, null)?.SetResult();

    public int CountOf(string kind) => Calls.Count(c => c.StartsWith(kind + " ", StringComparison.Ordinal));

    public async Task ListAsync(string[] rooms, bool listable, bool relist)
    {
        Calls.Enqueue($"{(relist ? "relist" : "list")} {string.Join(',', rooms)}");
        if (_hold is { } hold)
        {
            await hold.Task;
        }

        List(rooms, listable);
    }

    /// <summary>Lists the rooms, then fails as <see cref="FailListingsWith"/> or <see cref="FailNextListingWith"/> say.</summary>
    private void List(string[] rooms, bool listable)
    {
        lock (_lock)
        {
            _listed.UnionWith(rooms);
            if (listable)
            {
                _listedListable.UnionWith(rooms);
            }
        }

        if ((FailListingsWith ?? Interlocked.Exchange(ref _failNext, null)) is { } error)
        {
            throw error;
        }
    }

    public async Task DelistAsync(string[] rooms)
    {
        Calls.Enqueue($"delist {string.Join(',', rooms)}");
        if (_hold is { } hold)
        {
            await hold.Task;
        }

        if (FailListingsWith is { } error)
        {
            throw error;
        }

        lock (_lock)
        {
            _listed.ExceptWith(rooms);
            _listedListable.ExceptWith(rooms);
        }
    }

    public Task DisconnectAsync(string socketId)
    {
        Calls.Enqueue($"disconnect {socketId}");
        Connected.TryRemove(socketId, out _);
        return Task.CompletedTask;
    }

    public Task CommitAsync(FrontEndJournal journal)
    {
        Calls.Enqueue($"commit {journal.Records.Length}+{journal.Delivered.Length}");
        return Task.CompletedTask;
    }

    public Task AdoptAsync(string socketId, string fromFrontEnd)
    {
        Calls.Enqueue($"adopt {socketId}");
        Connected[socketId] = 0;
        return Task.CompletedTask;
    }

    public Task RelistSocketsAsync(string[] socketIds)
    {
        Calls.Enqueue($"relist-sockets {string.Join(',', socketIds)}");
        foreach (var id in socketIds)
        {
            Connected[id] = 0;
        }

        return Task.CompletedTask;
    }

    public Task<LeaseState> RenewAsync(IFrontEndObserver observer, TimeSpan lease, TimeSpan timeout) => throw NotHere();

    public Task DetachAsync(TimeSpan timeout) => throw NotHere();

    /// <summary>
    /// A presence batch, as "presence room +s1,-s2" (tracked, untracked), "presence room list ..." when it carries the
    /// room's listing: that listing is made, and fails, as <see cref="ListAsync"/>'s does. The state answered is empty.
    /// </summary>
    public async Task<Orleans.Rooms.Presence.PresenceState?> PresenceAsync(string room, Orleans.Rooms.Presence.PresenceBatch batch)
    {
        var changes = string.Join(',', batch.Changes.Select(c => (c.Tracked ? "+" : "-") + c.SocketId));
        if (!batch.List)
        {
            Calls.Enqueue($"presence {room} {changes}");
        }
        else
        {
            Calls.Enqueue($"presence {room} list {changes}");
            List([room], batch.Listable);
        }

        await Task.Yield();
        return batch.StateTo is not null ? new Orleans.Rooms.Presence.PresenceState("{}"u8.ToArray(), "1.1", Complete: true) : null;
    }

    public Task<Orleans.Rooms.Presence.PresenceState> PresenceStateAsync(string room, CancellationToken cancellationToken) => throw NotHere();

    public Task<Orleans.Rooms.Membership.RoomFrontEnds> FrontEndsOfAsync(string room, CancellationToken cancellationToken) => throw NotHere();

    public Task<Orleans.Rooms.Membership.RoomFrontEnds> ListedFrontEndsOfAsync(string room, CancellationToken cancellationToken) => throw NotHere();

    public Task<Orleans.Rooms.Directory.RoomDirectoryPage> DirectoryPageAsync(int shard, string? after, int count, CancellationToken cancellationToken) => throw NotHere();

    public Task<string[]> FrontEndsAsync(CancellationToken cancellationToken) => throw NotHere();

    public Task<bool> IsAttachedAsync(string frontEndId) => throw NotHere();

    public Task<string> LocateAsync(string socketId) => throw NotHere();

    public IFrontEnd FrontEnd(string frontEndId) => throw NotHere();

    private static NotSupportedException NotHere() => new("The listing state machine does not make this call; FakeDoor does not stand in for it.");
}
