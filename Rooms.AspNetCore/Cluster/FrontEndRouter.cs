using Microsoft.Extensions.Caching.Memory;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// The one place that decides "this front end or another": for a front-end id, the <see cref="IFrontEnd"/> to
/// call (this one in memory, any other through its grain); for a socket id, the front end that holds it.
/// </summary>
/// <remarks>
/// A socket's location is recorded in the cluster (its socket grain) only once some front end looks for it
/// there and finds nothing: then every attached front end is asked, and the one that holds it records it
/// (docs/design.md, "Locating a socket"). So a socket nobody looks for from elsewhere costs the cluster nothing.
/// Where another front end's socket is, once found, is kept (<see cref="LocatedSocketsKept"/>, least recently
/// used forgotten first): the next change or read of it goes straight there, and only an "unknown" answer from
/// there sends it to its socket grain again. A socket found nowhere is remembered as such for
/// <see cref="FreshFor"/>, so a stream of requests for a socket that is gone costs one search.
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

    /// <summary>This front end's id.</summary>
    public string Id => local.Id;

    /// <summary>The front end <paramref name="frontEndId"/>: this one, or another through its grain.</summary>
    public IFrontEnd Get(string frontEndId) => frontEndId == local.Id ? local : door.FrontEnd(frontEndId);

    /// <summary>
    /// Calls the front end that holds socket <paramref name="socketId"/> and returns its answer, once an answer
    /// shows (by <paramref name="holds"/>) that it holds it: this front end first, then the one it was last found
    /// on, then the one the cluster names (then remembered). An answer that does not hold it from the one the
    /// cluster named is returned as is, and so is this front end's when no front end holds it. An error of a
    /// remembered front end is the answer: the cluster could only name the same one.
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
            if (known!.FrontEnd is null)
            {
                if (IsFresh(known))
                {
                    return here; // found nowhere a moment ago
                }
            }
            else
            {
                var answer = await call(Get(known.FrontEnd));
                if (holds(answer))
                {
                    return answer;
                }
            }

            _located.Remove(socketId);
        }

        var frontEnd = await LocateAsync(socketId);
        if (frontEnd is null || frontEnd == local.Id)
        {
            return here; // held nowhere, or its grain names this front end, which does not hold it (it just ended)
        }

        var result = await call(Get(frontEnd));
        if (holds(result))
        {
            Remember(socketId, frontEnd);
        }

        return result;
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
    /// Whether <paramref name="frontEndId"/> is attached to the cluster (the registry, read at most once per
    /// <see cref="FreshFor"/> while the id is known): a front end named by a client is asked only when it is one.
    /// </summary>
    public async ValueTask<bool> IsAttachedAsync(string frontEndId)
    {
        if (frontEndId == local.Id || (_attached is { } known && known.Ids.Contains(frontEndId)))
        {
            return true;
        }

        if (_attached is { } recent && IsFresh(recent.At))
        {
            return false;
        }

        var ids = await door.FrontEndsAsync(CancellationToken.None);
        var read = new AttachedFrontEnds(new HashSet<string>(ids, StringComparer.Ordinal), time.GetTimestamp());
        _attached = read;
        return read.Ids.Contains(frontEndId);
    }

    public void Dispose() => _located.Dispose();

    /// <summary>
    /// The front end that holds the socket: from its socket grain, or else the one of every attached front end that
    /// holds it, which records it there (so the next search ends at the grain); null when none does.
    /// </summary>
    private async Task<string?> LocateAsync(string socketId)
    {
        string? frontEnd;
        try
        {
            frontEnd = await door.LocateAsync(socketId);
        }
        catch (SocketNotFoundException)
        {
            frontEnd = await FindAnywhereAsync(socketId);
        }

        Remember(socketId, frontEnd);
        return frontEnd;
    }

    /// <summary>Asks every other attached front end whether it holds the socket (the one that does records its location); which one did, or null.</summary>
    private async Task<string?> FindAnywhereAsync(string socketId)
    {
        var frontEnds = await door.FrontEndsAsync(CancellationToken.None);
        Exception? unanswered = null;
        var answers = await Task.WhenAll(frontEnds.Where(id => id != local.Id).Select(async id =>
        {
            try
            {
                return await Get(id).Relist(socketId) ? id : null;
            }
            catch (Exception ex)
            {
                unanswered = ex;
                return null;
            }
        }));

        // A front end that could not be asked (its grain's silo is going) may be the one holding the socket:
        // that is not a "no", and the caller hears the error rather than a live socket called unknown.
        return answers.FirstOrDefault(id => id is not null) ?? (unanswered is null ? null : throw unanswered);
    }

    private void Remember(string socketId, string? frontEnd)
        => _located.Set(socketId, new Location(frontEnd, time.GetTimestamp()), new MemoryCacheEntryOptions { Size = 1 });

    private bool IsFresh(Location location) => IsFresh(location.At);

    private bool IsFresh(long at) => time.GetElapsedTime(at) < FreshFor;

    /// <summary>Where a socket was found (null: nowhere), and when.</summary>
    private sealed record Location(string? FrontEnd, long At);

    /// <summary>The attached front ends as the registry listed them, and when.</summary>
    private sealed record AttachedFrontEnds(HashSet<string> Ids, long At);
}
