using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// The one place that decides "this front end or another": for a front-end id, the <see cref="IFrontEnd"/> to
/// call (this one in memory, any other through its grain); for a socket id, the front end that holds it.
/// </summary>
/// <remarks>
/// A change or read of another front end's socket goes to the front end it was last found on; the first time (or when
/// that one no longer holds it), to every other attached front end at once, with the call itself: the holder answers,
/// and is remembered (<see cref="LocatedSocketsKept"/>, least recently used forgotten first). No socket grain is on
/// that path. A broadcast to a socket's own-id room and a resume elsewhere need its front end without a call to make
/// there: they read its socket grain, which knows a socket once some front end looked for it that way or it moved (the
/// holder records it when asked, <see cref="IFrontEnd.Relist"/>). A socket found nowhere is remembered as such for
/// <see cref="FreshFor"/>, so a stream of requests for a socket that is gone costs one search (docs/design.md,
/// "Locating a socket").
/// </remarks>
internal sealed class FrontEndRouter(LocalFrontEnd local, IClusterDoor door, TimeProvider time) : IDisposable
{
    /// <summary>How many sockets of other front ends are remembered where they are.</summary>
    internal const int LocatedSocketsKept = 100_000;

    /// <summary>
    /// How long a location read for a broadcast is used without reading it again (and a socket found nowhere is
    /// taken as gone): below the 5 s during which a moved socket's old front end sends late batches after it
    /// (<see cref="LocalSockets.MovedAwayIn"/>), so a batch sent to where it was still reaches it.
    /// </summary>
    internal static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(3);

    private readonly MemoryCache _located = new(new MemoryCacheOptions { SizeLimit = LocatedSocketsKept, CompactionPercentage = 0.25 });
    private volatile AttachedFrontEnds? _attached;
    private Task<AttachedFrontEnds>? _reading;
    private readonly ConcurrentDictionary<string, Task<bool>> _checking = new(StringComparer.Ordinal);

    /// <summary>This front end's id.</summary>
    public string Id => local.Id;

    /// <summary>The front end <paramref name="frontEndId"/>: this one, or another through its grain.</summary>
    public IFrontEnd Get(string frontEndId) => frontEndId == local.Id ? local : door.FrontEnd(frontEndId);

    /// <summary>
    /// Calls the front end that holds socket <paramref name="socketId"/> and returns its answer, once an answer
    /// shows (by <paramref name="holds"/>) that it holds it: this front end first, then the one it was last found
    /// on, then every other attached front end at once (the holder then remembered). This front end's answer when no
    /// front end holds it. An error of a remembered front end is the answer.
    /// </summary>
    public async Task<T> OnFrontEndOf<T>(string socketId, Func<IFrontEnd, Task<T>> call, Func<T, bool> holds)
    {
        var here = await call(local);
        if (holds(here))
        {
            return here;
        }

        if (_located.TryGetValue(socketId, out Location? known))
        {
            if (known!.FrontEnd is null && IsFresh(known))
            {
                // Found nowhere a moment ago: "unknown" still, unless it has since come back on a front end by a move
                // (a resume after its front end was lost, say), which records it in its socket grain. One grain read
                // rather than a call to every front end: a live socket is never answered "unknown" (docs/guarantees.md, 2).
                if (await RecordedFrontEndAsync(socketId) is not { } moved)
                {
                    return here;
                }

                known = Remember(socketId, moved);
            }

            if (known.FrontEnd is not null)
            {
                var answer = await call(Get(known.FrontEnd));
                if (holds(answer))
                {
                    return answer;
                }
            }

            _located.Remove(socketId);
        }

        // Not remembered: every other attached front end is asked with the call itself. The holder answers it (a change
        // is applied there only), the others answer that they do not hold the socket: one round of calls, in parallel,
        // and no socket grain on the way (docs/design.md, "Locating a socket").
        var (frontEnd, result) = await OnHolderAsync(call, holds, listedLately: true);
        Remember(socketId, frontEnd);
        return frontEnd is null ? here : result;
    }

    /// <summary>
    /// The call on every other attached front end: those of the registry's list read at most <see cref="FreshFor"/> ago
    /// (when <paramref name="listedLately"/>), then those of a list read now that were not asked yet. The one that holds
    /// the socket and its answer; no front end when none does.
    /// </summary>
    private async Task<(string? FrontEnd, T Answer)> OnHolderAsync<T>(Func<IFrontEnd, Task<T>> call, Func<T, bool> holds, bool listedLately)
    {
        var asked = new HashSet<string>(StringComparer.Ordinal) { local.Id };
        Exception? unanswered = null;
        foreach (var fresh in listedLately ? (bool[])[false, true] : [true])
        {
            var (frontEnd, answer, error) = await FirstHolderAsync((await AttachedAsync(fresh)).Where(asked.Add), id => call(Get(id)), holds);
            if (frontEnd is not null)
            {
                return (frontEnd, answer!);
            }

            unanswered ??= error;
        }

        // A front end that could not be asked (its grain's silo is going) may be the one holding the socket:
        // that is not a "no", and the caller hears the error rather than a live socket called unknown.
        return unanswered is null ? (null, default!) : throw unanswered;
    }

    /// <summary>
    /// Asks every one of <paramref name="frontEnds"/> at once and returns as soon as one answers that it holds the socket
    /// (by <paramref name="holds"/>): a front end that is slow to say no (a dead one's grain, just activated, waits out a
    /// renewal period before it answers) must not hold up the answer of the one that has the socket. With no holder, it
    /// returns once every one has answered, with the error of one that could not be asked, if any.
    /// </summary>
    private static async Task<(string? FrontEnd, T? Answer, Exception? Unanswered)> FirstHolderAsync<T>(IEnumerable<string> frontEnds, Func<string, Task<T>> ask, Func<T, bool> holds)
    {
        var pending = frontEnds.Select(async id =>
        {
            try
            {
                return (Id: id, Answer: await ask(id), Error: (Exception?)null);
            }
            catch (Exception ex)
            {
                return (Id: id, Answer: default(T), Error: ex);
            }
        }).ToList();

        Exception? unanswered = null;
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            var (id, answer, error) = await done;
            if (error is null && holds(answer!))
            {
                return (id, answer, null);
            }

            unanswered ??= error;
        }

        return (null, default, unanswered);
    }

    /// <summary>
    /// For a broadcast or read of room <paramref name="room"/>: the front end that holds the socket the room is
    /// named after, whose own-id room the cluster does not list; null when the name cannot be a socket's or no
    /// front end holds such a socket. This front end when it holds it (no call); otherwise a location read less
    /// than <see cref="FreshFor"/> ago, or read now.
    /// </summary>
    public async ValueTask<string?> HolderOfAsync(string room)
    {
        if (!SocketIds.CouldBe(room))
        {
            return null;
        }

        if (local.Membership.Holds(room))
        {
            return local.Id;
        }

        if (_located.TryGetValue(room, out Location? known) && IsFresh(known!))
        {
            return known!.FrontEnd;
        }

        var frontEnd = await LocateAsync(room);
        return frontEnd == local.Id ? null : frontEnd;
    }

    /// <summary>Where the socket is, as the cluster knows it (see <see cref="LocateAsync"/>); null when no front end holds it.</summary>
    public Task<string?> FindAsync(string socketId) => LocateAsync(socketId);

    /// <summary>
    /// Whether <paramref name="frontEndId"/> is attached to the cluster: in the registry's list as last read, or, when
    /// that list is older than <see cref="FreshFor"/> and does not name it, the registry asked about that one front
    /// end (concurrent checks of one id share the call). A front end named by a client is asked only when it is one.
    /// Not the whole list: a registry just activated holds a list back for a renewal period, but a listed front end
    /// it names at once, so a resume elsewhere right after a silo loss (or a cluster's start) is not held up.
    /// </summary>
    public async ValueTask<bool> IsAttachedAsync(string frontEndId)
    {
        if (frontEndId == local.Id)
        {
            return true;
        }

        if (_attached is { } known && (known.Ids.Contains(frontEndId) || IsFresh(known.At)))
        {
            return known.Ids.Contains(frontEndId);
        }

        var check = _checking.GetOrAdd(frontEndId, door.IsAttachedAsync);
        try
        {
            return await check;
        }
        finally
        {
            _checking.TryRemove(new KeyValuePair<string, Task<bool>>(frontEndId, check));
        }
    }

    /// <summary>
    /// The attached front ends: the registry's list as read less than <see cref="FreshFor"/> ago, or read now (always,
    /// when <paramref name="fresh"/>). Callers that need it at the same time share one read: a burst of requests for
    /// sockets not found yet (a kick of every member of a room, say) costs the registry one call, not one each.
    /// </summary>
    private async ValueTask<HashSet<string>> AttachedAsync(bool fresh)
    {
        if (!fresh && _attached is { } recent && IsFresh(recent.At))
        {
            return recent.Ids;
        }

        var reading = Volatile.Read(ref _reading);
        if (reading is null || reading.IsCompleted)
        {
            var started = ReadAttachedAsync();
            reading = Interlocked.CompareExchange(ref _reading, started, reading) == reading ? started : Volatile.Read(ref _reading)!;
        }

        return (await reading).Ids;
    }

    private async Task<AttachedFrontEnds> ReadAttachedAsync()
    {
        try
        {
            var ids = await door.FrontEndsAsync(CancellationToken.None);
            var read = new AttachedFrontEnds(new HashSet<string>(ids, StringComparer.Ordinal), time.GetTimestamp());
            _attached = read;
            return read;
        }
        finally
        {
            // The next caller that finds the list old starts the next read (a finished one is never awaited again).
            _reading = null;
        }
    }

    public void Dispose() => _located.Dispose();

    /// <summary>
    /// The front end that holds the socket: from its socket grain, or else the one of every attached front end that
    /// holds it, which records it there (so the next search ends at the grain); null when none does.
    /// </summary>
    private async Task<string?> LocateAsync(string socketId)
    {
        var frontEnd = await RecordedFrontEndAsync(socketId) ?? await FindAnywhereAsync(socketId);
        Remember(socketId, frontEnd);
        return frontEnd;
    }

    /// <summary>The front end the socket's grain names, or null when it names none.</summary>
    private async Task<string?> RecordedFrontEndAsync(string socketId)
    {
        try
        {
            return await door.LocateAsync(socketId);
        }
        catch (SocketNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Asks every other attached front end (the registry read now, shared with concurrent readers) whether it holds the socket (the one that does records its location); which one did, or null.</summary>
    private async Task<string?> FindAnywhereAsync(string socketId)
        => (await OnHolderAsync(frontEnd => frontEnd.Relist(socketId), held => held, listedLately: false)).FrontEnd;

    private Location Remember(string socketId, string? frontEnd)
        => _located.Set(socketId, new Location(frontEnd, time.GetTimestamp()), new MemoryCacheEntryOptions { Size = 1 });

    private bool IsFresh(Location location) => IsFresh(location.At);

    private bool IsFresh(long at) => time.GetElapsedTime(at) < FreshFor;

    /// <summary>Where a socket was found (null: nowhere), and when.</summary>
    private sealed record Location(string? FrontEnd, long At);

    /// <summary>The attached front ends as the registry listed them, and when.</summary>
    private sealed record AttachedFrontEnds(HashSet<string> Ids, long At);
}
