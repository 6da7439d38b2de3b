using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Tests.Infrastructure;

/// <summary>
/// The invariant checker: for the given sockets and rooms, every index of the cluster says what the front ends'
/// records (the source of truth) say, each index read on its own rather than through the front end it checks:
/// <list type="bullet">
/// <item>each front end's record, read in its own process and again through its front-end grain (a front end the
/// cluster cannot reach reads there as holding nothing: that is a failure here, not an empty record);</item>
/// <item>the socket grains (<see cref="ISocketGrain.GetFrontEnd"/>): each held socket's grain names its holder or, when no
/// other front end ever looked for it, nobody;</item>
/// <item>the room grains (<see cref="IRoomGrain.GetFrontEnds"/>): each room with members on a front end lists it;</item>
/// <item>the room API (socket rooms, subscribers, the room listing) as any caller reads it.</item>
/// </list>
/// </summary>
internal static class Indexes
{
    public static async Task AssertAgreeAsync(IGrainFactory grains, IRoomService api, IReadOnlyCollection<string> sockets, IReadOnlyCollection<string> rooms, params TestFrontEnd[] frontEnds)
    {
        var problems = new List<string>();

        // The records, each front end's on its own: a socket is held by one front end at most.
        var holders = new Dictionary<string, TestFrontEnd>(StringComparer.Ordinal);
        var byRecord = new HashSet<(string Socket, string Room)>();
        foreach (var frontEnd in frontEnds)
        {
            foreach (var socket in sockets)
            {
                if (frontEnd.RecordOf(socket) is not { } record)
                {
                    continue;
                }

                if (holders.TryGetValue(socket, out var other))
                {
                    problems.Add($"socket {socket} is held by two front ends, {other.Id} and {frontEnd.Id}");
                }

                holders[socket] = frontEnd;
                byRecord.UnionWith(record.Select(room => (socket, room)));
            }
        }

        foreach (var (socket, frontEnd) in holders)
        {
            var record = frontEnd.RecordOf(socket) ?? [];

            // What any other front end hears from this one, through its front-end grain.
            var answered = await grains.GetGrain<IFrontEndGrain>(frontEnd.Id).GetSocketRooms(socket);
            if (answered is null)
            {
                problems.Add($"front end {frontEnd.Id} holds socket {socket} but does not answer for it through its front-end grain (the cluster counts it as holding nothing)");
            }
            else
            {
                Compare(problems, $"socket {socket}: front end {frontEnd.Id} through its grain vs its record", answered, record);
            }

            // Recorded only once another front end looked for it (docs/design.md, "Locating a socket"): named by none, or its holder.
            if (await LocationAsync(grains, socket) is { } located && located != frontEnd.Id)
            {
                problems.Add($"socket {socket}: its socket grain names {located}, but {frontEnd.Id} holds it");
            }

            // A socket's own-id room is listed only once another socket joins it (that membership is checked as the other's).
            foreach (var room in record.Where(room => room != socket))
            {
                var listed = await grains.GetGrain<IRoomGrain>(room).GetFrontEnds();
                if (!listed.FrontEnds.Contains(frontEnd.Id))
                {
                    problems.Add($"room {room}: socket {socket} is a member on {frontEnd.Id}, but the room grain lists [{string.Join(",", listed.FrontEnds)}] (complete {listed.Complete})");
                }
            }
        }

        // A socket none of the given front ends holds must not be located on one of them (a ghost).
        foreach (var socket in sockets.Where(s => !holders.ContainsKey(s)))
        {
            if (await LocationAsync(grains, socket) is { } located && frontEnds.Any(f => f.Id == located))
            {
                problems.Add($"socket {socket}: its socket grain names {located}, which does not hold it");
            }
        }

        // The room API, as a caller on another front end reads it.
        var bySocket = new HashSet<(string Socket, string Room)>();
        foreach (var socket in sockets)
        {
            try
            {
                bySocket.UnionWith((await api.SocketRoomsAsync(socket)).Select(room => (socket, room)));
            }
            catch (SocketNotFoundException) when (!holders.ContainsKey(socket))
            {
                // Disconnected: it must then be in no room either (checked below).
            }
            catch (SocketNotFoundException)
            {
                problems.Add($"socket {socket} is held by {holders[socket].Id} but the room API answers it is unknown");
            }
        }

        var byRoom = new HashSet<(string Socket, string Room)>();
        foreach (var room in rooms.Concat(sockets))
        {
            byRoom.UnionWith((await api.SubscribersAsync(room)).Select(socket => (socket, room)));
        }

        Compare(problems, "memberships: subscribers of every room vs socket rooms of every socket", Lines(byRoom), Lines(bySocket));
        if (frontEnds.Length > 0)
        {
            Compare(problems, "memberships: socket rooms of every socket vs the front ends' records", Lines(bySocket), Lines(byRecord));
        }

        var listedRooms = (await api.RoomsAsync(limit: RoomPage.MaxLimit)).Rooms.ToHashSet();
        foreach (var room in rooms)
        {
            var hasMembers = byRoom.Any(m => m.Room == room);
            if (hasMembers != listedRooms.Contains(room))
            {
                problems.Add($"room {room}: has members {hasMembers}, listed {listedRooms.Contains(room)}");
            }
        }

        Assert.True(problems.Count == 0, $"{problems.Count} disagreements:\n{string.Join("\n", problems.Take(20))}");
    }

    /// <summary>The front end a socket's grain names, or null when it knows none.</summary>
    private static async Task<string?> LocationAsync(IGrainFactory grains, string socket)
    {
        try
        {
            return await grains.GetGrain<ISocketGrain>(socket).GetFrontEnd();
        }
        catch (SocketNotFoundException)
        {
            return null;
        }
    }

    private static IEnumerable<string> Lines(IEnumerable<(string Socket, string Room)> memberships) => memberships.Select(m => $"{m.Socket}@{m.Room}");

    private static void Compare(List<string> problems, string what, IEnumerable<string> actual, IEnumerable<string> expected)
    {
        var a = actual.Order(StringComparer.Ordinal).ToArray();
        var e = expected.Order(StringComparer.Ordinal).ToArray();
        if (!a.SequenceEqual(e))
        {
            problems.Add($"{what}: only in the first [{string.Join(",", a.Except(e))}], only in the second [{string.Join(",", e.Except(a))}]");
        }
    }
}
