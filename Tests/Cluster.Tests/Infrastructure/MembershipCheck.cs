using System.Collections.Concurrent;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// What every front end must say about a known set of memberships: <c>/funRoomSubscribers</c> of every room
/// and <c>/socketRooms</c> of every socket list exactly them, and a broadcast to each room reaches exactly its
/// members (absence proven by a marker sent afterwards to every socket). Sockets must register event
/// <c>room</c>. A check that finds something wrong says what, so a poll can report how recovery went.
/// </summary>
/// <param name="expected">Each socket's rooms, its own-id room not included.</param>
public sealed class MembershipCheck(
    IReadOnlyList<Uri> frontEnds,
    IReadOnlyList<string> rooms,
    IReadOnlyList<ClusterSocket> sockets,
    IReadOnlyDictionary<string, SortedSet<string>> expected)
{
    /// <summary>One request: healthy ones answer in milliseconds; slower counts as "not yet".</summary>
    private static readonly TimeSpan RequestLimit = TimeSpan.FromSeconds(3);

    /// <summary>For the marker to arrive once the broadcasts before it completed.</summary>
    private static readonly TimeSpan EventLimit = TimeSpan.FromSeconds(5);

    /// <summary>Runs one check; <paramref name="tag"/> marks its broadcasts, so it must be new each time.</summary>
    public async Task<Result> CheckAsync(string tag)
    {
        var result = new Result();
        await Task.WhenAll(frontEnds.SelectMany(frontEnd =>
            rooms.Select(room => CheckSubscribersAsync(frontEnd, room, result))
                .Concat(sockets.Select(socket => CheckSocketRoomsAsync(frontEnd, socket, result)))));
        if (!result.Consistent)
        {
            return result; // broadcasts would only repeat what the lists say
        }

        // Each room from one front end or the other; all sent before the marker, which then arrives after them.
        var broadcasts = await Task.WhenAll(rooms.Select((room, i) => BoundedHttp.PostAsync(
            frontEnds[i % frontEnds.Count], "/broadcastFunRoom", new { roomName = room, eventName = "room", data = $"{tag} {room}" }, RequestLimit)));
        foreach (var failed in broadcasts.Where(a => !a.IsOk))
        {
            result.Add("broadcast failed", failed.ToString());
        }

        var marker = await BoundedHttp.PostAsync(frontEnds[0], "/broadcastFunRoom", new { roomName = sockets.Select(s => s.Id).ToArray(), eventName = "marker", data = tag }, RequestLimit);
        if (!marker.IsOk)
        {
            result.Add("broadcast failed", marker.ToString());
            return result;
        }

        await Task.WhenAll(sockets.Select(async socket =>
        {
            try
            {
                await socket.WaitForAsync("marker", tag, EventLimit);
            }
            catch (TimeoutException ex)
            {
                result.Add("marker not received", ex.Message);
                return;
            }

            var got = socket.Received("room").Select(p => p.GetString()!)
                .Where(text => text.StartsWith(tag + " ", StringComparison.Ordinal))
                .Select(text => text[(tag.Length + 1)..])
                .Order(StringComparer.Ordinal)
                .ToArray();
            if (!got.SequenceEqual(expected[socket.Id]))
            {
                result.Add("broadcasts to the wrong sockets", $"socket {socket.Id} was sent the broadcasts of [{string.Join(", ", got)}]; it is in [{string.Join(", ", expected[socket.Id])}]");
            }
        }));
        return result;
    }

    /// <summary>
    /// Checks a cluster just started, once more while the only problems are reads not answered within the limit:
    /// in its first seconds a front-end or registry grain activated anew (a silo joining moves directory ranges)
    /// holds its answer back for a renewal period before it answers (FrontEndRouter), so "not yet" there is not
    /// wrong. A wrong answer or a live socket answered unknown ends it at once. At most <paramref name="within"/>.
    /// </summary>
    public async Task<Result> SettledAsync(string tag, TimeSpan within)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (var round = 1; ; round++)
        {
            var result = await CheckAsync($"{tag}{round}");
            if (result.Consistent || !result.OnlyUnanswered || started.Elapsed >= within)
            {
                return result;
            }
        }
    }

    private async Task CheckSubscribersAsync(Uri frontEnd, string room, Result result)
    {
        var answer = await BoundedHttp.GetAsync(frontEnd, $"/funRoomSubscribers?roomName={Uri.EscapeDataString(room)}", RequestLimit);
        if (!answer.IsOk)
        {
            result.Add(answer.Status is { } status ? $"subscribers answered {status}" : "subscribers unanswered", answer.ToString());
            return;
        }

        var want = expected.Where(kv => kv.Value.Contains(room)).Select(kv => kv.Key).Order(StringComparer.Ordinal);
        var got = answer.Strings().Order(StringComparer.Ordinal);
        if (!got.SequenceEqual(want))
        {
            result.Add("subscribers wrong", $"{frontEnd} lists [{string.Join(", ", got)}] in {room}; want [{string.Join(", ", want)}]");
        }
    }

    private async Task CheckSocketRoomsAsync(Uri frontEnd, ClusterSocket socket, Result result)
    {
        var answer = await BoundedHttp.GetAsync(frontEnd, $"/socketRooms?socketId={Uri.EscapeDataString(socket.Id)}", RequestLimit);
        if (answer.Status == 404)
        {
            result.Unknown(answer.ToString());
            return;
        }

        if (!answer.IsOk)
        {
            result.Add(answer.Status is { } status ? $"socketRooms answered {status}" : "socketRooms unanswered", answer.ToString());
            return;
        }

        var want = expected[socket.Id].Append(socket.Id).Order(StringComparer.Ordinal);
        var got = answer.Strings().Order(StringComparer.Ordinal);
        if (!got.SequenceEqual(want))
        {
            result.Add("socketRooms wrong", $"{frontEnd} says {socket.Id} is in [{string.Join(", ", got)}]; want [{string.Join(", ", want)}]");
        }
    }

    public sealed class Result
    {
        private readonly ConcurrentQueue<(string Kind, string Detail)> _problems = new();
        private readonly ConcurrentQueue<string> _unknown = new();

        public bool Consistent => _problems.IsEmpty && _unknown.IsEmpty;

        /// <summary>Every problem is a read not answered in time (nothing wrong, nothing unknown).</summary>
        public bool OnlyUnanswered => _unknown.IsEmpty && !_problems.IsEmpty && _problems.All(p => p.Kind.EndsWith("unanswered", StringComparison.Ordinal));

        /// <summary>Live sockets a front end answered 404 for: never allowed, however the cluster fares.</summary>
        public IReadOnlyCollection<string> UnknownSockets => _unknown;

        /// <summary>Counts per kind of problem, e.g. "subscribers wrong ×3, socketRooms unanswered ×2".</summary>
        public string Summary => Consistent
            ? "consistent"
            : string.Join(", ", _problems.GroupBy(p => p.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} ×{g.Count()}"));

        public void Add(string kind, string detail) => _problems.Enqueue((kind, detail));

        public void Unknown(string detail) => _unknown.Enqueue(detail);

        public override string ToString()
            => Consistent ? "consistent" : $"{Summary}; e.g.:\n{string.Join('\n', _problems.Take(20).Select(p => p.Detail).Concat(_unknown.Take(5)))}";
    }
}
