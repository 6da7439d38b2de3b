using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Tests.Infrastructure;

/// <summary>
/// The invariant checker: for the given sockets and rooms, the socket index (socket grains), the room index
/// (room grains), the front ends' records (the source of truth) and the room listing all say the same.
/// </summary>
public static class Indexes
{
    public static async Task AssertAgreeAsync(IRoomService api, IReadOnlyCollection<string> sockets, IReadOnlyCollection<string> rooms, params TestFrontEnd[] frontEnds)
    {
        var bySocket = new HashSet<(string Socket, string Room)>();
        foreach (var socket in sockets)
        {
            try
            {
                foreach (var room in await api.SocketRoomsAsync(socket))
                {
                    bySocket.Add((socket, room));
                }
            }
            catch (SocketNotFoundException)
            {
                // Disconnected: it must then be in no room and in no front end's record.
            }
        }

        var byRoom = new HashSet<(string Socket, string Room)>();
        foreach (var room in rooms.Concat(sockets))
        {
            foreach (var socket in await api.SubscribersAsync(room))
            {
                byRoom.Add((socket, room));
            }
        }

        Assert.Equal(bySocket.Order().ToArray(), byRoom.Order().ToArray());

        if (frontEnds.Length > 0)
        {
            var byRecord = new HashSet<(string Socket, string Room)>();
            foreach (var socket in sockets)
            {
                foreach (var frontEnd in frontEnds)
                {
                    foreach (var room in frontEnd.RecordOf(socket) ?? [])
                    {
                        byRecord.Add((socket, room));
                    }
                }
            }

            Assert.Equal(byRecord.Order().ToArray(), bySocket.Order().ToArray());
        }

        var listed = (await api.RoomsAsync(limit: RoomPage.MaxLimit)).Rooms.ToHashSet();
        foreach (var room in rooms)
        {
            Assert.True(byRoom.Any(m => m.Room == room) == listed.Contains(room), $"room {room}: has members {byRoom.Any(m => m.Room == room)}, listed {listed.Contains(room)}");
        }
    }
}
