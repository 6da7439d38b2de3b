using Microsoft.Extensions.Caching.Memory;
using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// The one place that decides "this front end or another": for a front-end id, the <see cref="IFrontEnd"/> to
/// call (this one in memory, any other through its grain); for a socket id, the front end that holds it.
/// </summary>
/// <remarks>
/// A socket never changes front end (its id is its connection's, and it resumes only where it is held), so
/// where another front end's socket is, once found, is kept (<see cref="LocatedSocketsKept"/>, least recently
/// used forgotten first): the next change or read of it goes straight there, and only an "unknown" answer
/// from there sends it to its socket grain again. A socket grain that lost its socket (its silo went) has it
/// relisted by the front end that holds it before the socket grain is asked again. docs/design.md, "Routing".
/// </remarks>
internal sealed class FrontEndRouter(LocalFrontEnd local, IClusterDoor door) : IDisposable
{
    /// <summary>How many sockets of other front ends are remembered where they are.</summary>
    internal const int LocatedSocketsKept = 100_000;

    private readonly MemoryCache _located = new(new MemoryCacheOptions { SizeLimit = LocatedSocketsKept, CompactionPercentage = 0.25 });

    /// <summary>This front end's id.</summary>
    public string Id => local.Id;

    /// <summary>The front end <paramref name="frontEndId"/>: this one, or another through its grain.</summary>
    public IFrontEnd Get(string frontEndId) => frontEndId == local.Id ? local : door.FrontEnd(frontEndId);

    /// <summary>
    /// Calls the front end that holds socket <paramref name="socketId"/> and returns its answer, once an answer
    /// shows (by <paramref name="holds"/>) that it holds it: this front end first, then the one it was last found
    /// on, then the one its socket grain names (then remembered). An answer that does not hold it from the one
    /// the socket grain named is returned as is. An error of a remembered front end is the answer: the socket
    /// grain could only name the same one.
    /// </summary>
    public async Task<T> OnFrontEndOf<T>(string socketId, Func<IFrontEnd, Task<T>> call, Func<T, bool> holds)
    {
        var here = await call(local);
        if (holds(here))
        {
            return here;
        }

        if (_located.TryGetValue(socketId, out string? known))
        {
            var answer = await call(Get(known!));
            if (holds(answer))
            {
                return answer;
            }

            _located.Remove(socketId);
        }

        var frontEnd = await LocateAsync(socketId);
        if (frontEnd == local.Id)
        {
            return here; // its grain names this front end, which does not hold it (it just ended)
        }

        var result = await call(Get(frontEnd));
        if (holds(result))
        {
            _located.Set(socketId, frontEnd, new MemoryCacheEntryOptions { Size = 1 });
        }

        return result;
    }

    public void Dispose() => _located.Dispose();

    /// <summary>The front end that holds the socket, from its socket grain; relisted first by its front end when the grain lost it.</summary>
    private async Task<string> LocateAsync(string socketId)
    {
        try
        {
            return await door.LocateAsync(socketId);
        }
        catch (SocketNotFoundException)
        {
            if (!await RelistAnywhereAsync(socketId))
            {
                throw;
            }
        }

        return await door.LocateAsync(socketId);
    }

    /// <summary>Asks every attached front end to relist the socket if it holds it; true when one did.</summary>
    private async Task<bool> RelistAnywhereAsync(string socketId)
    {
        var frontEnds = await door.FrontEndsAsync(CancellationToken.None);
        Exception? unanswered = null;
        var answers = await Task.WhenAll(frontEnds.Where(id => id != local.Id).Select(async id =>
        {
            try
            {
                return await Get(id).Relist(socketId);
            }
            catch (Exception ex)
            {
                unanswered = ex;
                return false;
            }
        }));

        // A front end that could not be asked (its grain's silo is going) may be the one holding the socket:
        // that is not a "no", and the caller hears the error rather than a live socket called unknown.
        if (answers.Contains(true))
        {
            return true;
        }

        return unanswered is null ? false : throw unanswered;
    }
}
