using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Placement;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.Membership;

/// <summary>
/// The rooms one front end is listed in. A room is noted before the front end is listed in it and forgotten
/// only once it is delisted, so a purge never misses a room that lists the front end. Reentrant: each call
/// touches the set only between its awaits, and the front end has at most one change in flight per room.
/// Its front end's presence changes pass here on their way to the rooms' grains, so that it knows those too and a
/// purge makes the front end's entries leave; a track's batch may carry its room's listing as well (one call).
/// Calls room grains only.
/// </summary>
[Reentrant]
[Immovable] // its state lives in memory only: a migration (rebalancer, repartitioner) would lose it
internal sealed partial class FrontEndRoomsGrain(ILogger<FrontEndRoomsGrain> logger) : InMemoryGrain, IFrontEndRoomsGrain
{
    private readonly HashSet<string> _rooms = new(StringComparer.Ordinal);
    private readonly HashSet<string> _presence = new(StringComparer.Ordinal);

    private string Id => this.GetPrimaryKeyString();

    public async Task Register(string[] rooms, bool listable, bool relist)
    {
        _rooms.UnionWith(rooms);
        KeepActive();
        ThrowIfAny(await ForEachRoom(rooms, room => Room(room).Add(Id, listable, relist)));
    }

    public async Task Unregister(string[] rooms) => ThrowIfAny(await Delist(rooms));

    public Task<PresenceState?> Presence(string room, PresenceBatch batch)
    {
        // Noted before the grain hears of it, as Register notes a room, so that a purge never misses a listing or an
        // entry the front end made. A track that joined a room new to its front end lists it in the same call: the room
        // grain adds the front end, then applies the entry (the room's diffs reach the front end's members).
        var noted = batch.List && _rooms.Add(room);
        noted |= batch.Changes.Any(c => c.Tracked) && _presence.Add(room);
        if (noted)
        {
            KeepActive();
        }

        return Room(room).ApplyPresence(Id, batch);
    }

    public async Task<int> Purge()
    {
        var presenceFailures = await ForEachRoom([.. _presence], room => Room(room).RemovePresenceOf(Id));
        _presence.ExceptWith(_presence.Where(r => !presenceFailures.Exists(f => f.Room == r)).ToArray());
        var failures = await Delist([.. _rooms]);
        failures.AddRange(presenceFailures);
        if (failures.Count > 0)
        {
            LogPurgeFailed(failures[0].Error, Id, failures.Count);
        }
        else
        {
            AllowCollection();
        }

        return failures.Count;
    }

    /// <summary>Delists this front end from the rooms and forgets those that were told; the others stay noted for a retry.</summary>
    private async Task<List<(string Room, Exception Error)>> Delist(string[] rooms)
    {
        var failures = await ForEachRoom(rooms, room => Room(room).Remove(Id));
        var failed = failures.Select(f => f.Room).ToHashSet(StringComparer.Ordinal);
        _rooms.ExceptWith(rooms.Where(r => !failed.Contains(r)));

        // A room delisted here has no member here, so no entry either (each left it as its socket left the room).
        _presence.ExceptWith(rooms.Where(r => !failed.Contains(r)));
        return failures;
    }

    private static void ThrowIfAny(List<(string Room, Exception Error)> failures)
    {
        if (failures.Count > 0)
        {
            throw failures.Count == 1 ? failures[0].Error : new AggregateException(failures.Select(f => f.Error));
        }
    }

    /// <summary>
    /// Calls every room, <see cref="GrainLimits.MaxParallelCalls"/> at a time, awaited here: Parallel.ForEachAsync would run
    /// the calls on the thread pool, outside this activation.
    /// </summary>
    private static async Task<List<(string Room, Exception Error)>> ForEachRoom(string[] rooms, Func<string, Task> call)
    {
        var failures = new List<(string, Exception)>();
        foreach (var chunk in rooms.Chunk(GrainLimits.MaxParallelCalls))
        {
            var calls = chunk.Select(call).ToArray();
            try
            {
                await Task.WhenAll(calls);
            }
            catch (Exception)
            {
                for (var i = 0; i < chunk.Length; i++)
                {
                    if (!calls[i].IsCompletedSuccessfully)
                    {
                        failures.Add((chunk[i], calls[i].Exception?.InnerException ?? new TaskCanceledException()));
                    }
                }
            }
        }

        return failures;
    }

    private IRoomGrain Room(string room) => GrainFactory.GetGrainByKey<IRoomGrain>(room);

    [LoggerMessage(1, LogLevel.Warning, "Front end {FrontEndId}: {Count} rooms could not be told it is gone; the next purge retries.")]
    private partial void LogPurgeFailed(Exception exception, string frontEndId, int count);
}
