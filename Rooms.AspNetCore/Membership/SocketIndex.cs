using System.Runtime.InteropServices;

namespace Orleans.Rooms.Membership;

/// <summary>
/// The memberships of one front end's sockets, as two indexes kept in step: each socket's rooms (its own-id room
/// included) and each room's sockets here. Pure and synchronous: no clock, no cluster, no lock (its owner,
/// <see cref="FrontEndMembership"/>, changes it under its own). A room is indexed while it has members; a socket
/// from <see cref="AddSocket"/> to <see cref="RemoveSocket"/>.
/// </summary>
/// <remarks>The shape of SignalR's <c>HubConnectionStore</c>, with rooms: docs/design.md, "The socket index".</remarks>
internal sealed class SocketIndex
{
    private readonly Dictionary<string, HashSet<string>> _sockets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Room> _rooms = new(StringComparer.Ordinal);

    /// <summary>How many sockets are held.</summary>
    public int Count => _sockets.Count;

    /// <summary>Holds a new socket, a member of its own-id room. False when it is held already (nothing changes).</summary>
    public bool AddSocket(string socketId)
    {
        ref var rooms = ref CollectionsMarshal.GetValueRefOrAddDefault(_sockets, socketId, out var exists);
        if (exists)
        {
            return false;
        }

        rooms = new HashSet<string>(StringComparer.Ordinal) { socketId };
        AddMember(socketId, socketId);
        return true;
    }

    /// <summary>Forgets a socket: it leaves every room. Returns the rooms it was in (its own-id room included), or null when it was not held.</summary>
    public HashSet<string>? RemoveSocket(string socketId)
    {
        if (!_sockets.Remove(socketId, out var rooms))
        {
            return null;
        }

        foreach (var room in rooms)
        {
            RemoveMember(room, socketId);
        }

        return rooms;
    }

    public bool Holds(string socketId) => _sockets.ContainsKey(socketId);

    public string[] SocketIds() => [.. _sockets.Keys];

    /// <summary>The rooms of a socket held here (its own-id room included), or null.</summary>
    public string[]? RoomsOf(string socketId) => _sockets.TryGetValue(socketId, out var rooms) ? [.. rooms] : null;

    /// <summary>Whether the socket is in the room; false when it is not held.</summary>
    public bool IsIn(string socketId, string room) => _sockets.TryGetValue(socketId, out var rooms) && rooms.Contains(room);

    /// <summary>How many rooms the socket is in, its own-id room not counted (0 when it is not held).</summary>
    public int CountedRooms(string socketId)
        => _sockets.TryGetValue(socketId, out var rooms) ? rooms.Count - (rooms.Contains(socketId) ? 1 : 0) : 0;

    /// <summary>The rooms of a held socket, for iteration under the owner's lock (do not keep it).</summary>
    public IReadOnlyCollection<string> RoomsView(string socketId) => _sockets[socketId];

    /// <summary>Adds a held socket to a room. False when it was in it already, or is not held.</summary>
    public bool Join(string socketId, string room)
    {
        if (!_sockets.TryGetValue(socketId, out var rooms) || !rooms.Add(room))
        {
            return false;
        }

        AddMember(room, socketId);
        return true;
    }

    /// <summary>Takes a held socket out of a room. False when it was not in it, or is not held.</summary>
    public bool Leave(string socketId, string room)
    {
        if (!_sockets.TryGetValue(socketId, out var rooms) || !rooms.Remove(room))
        {
            return false;
        }

        RemoveMember(room, socketId);
        return true;
    }

    /// <summary>This front end's sockets in <paramref name="room"/>; the array is shared until the room changes, do not change it.</summary>
    public string[] MembersOf(string room) => _rooms.TryGetValue(room, out var local) ? local.Members() : [];

    public bool HasMembers(string room) => _rooms.ContainsKey(room);

    /// <summary>Whether <c>Rooms()</c> shows the room: it has a member here other than the socket it is named after.</summary>
    public bool IsListable(string room) => _rooms.TryGetValue(room, out var local) && local.IsListable(room);

    /// <summary>The first <paramref name="count"/> rooms, in ordinal order, that <c>Rooms()</c> shows and <paramref name="include"/> takes.</summary>
    public string[] ListableRooms(Func<string, bool> include, int count)
        => [.. _rooms.Where(r => r.Value.IsListable(r.Key) && include(r.Key)).Select(r => r.Key).Order(StringComparer.Ordinal).Take(count)];

    /// <summary>The sockets here in any of <paramref name="rooms"/>, each once, minus <paramref name="except"/>.</summary>
    public IReadOnlyCollection<string> Recipients(string[] rooms, string[]? except)
    {
        if (rooms.Length == 1 && except is null)
        {
            return MembersOf(rooms[0]);
        }

        var recipients = new HashSet<string>(StringComparer.Ordinal);
        foreach (var room in rooms)
        {
            if (_rooms.TryGetValue(room, out var local))
            {
                recipients.UnionWith(local.Members());
            }
        }

        if (except is not null)
        {
            recipients.ExceptWith(except);
        }

        return recipients;
    }

    private void AddMember(string room, string socketId)
    {
        ref var local = ref CollectionsMarshal.GetValueRefOrAddDefault(_rooms, room, out _);
        local ??= new Room();
        local.Add(socketId);
    }

    private void RemoveMember(string room, string socketId)
    {
        if (_rooms.TryGetValue(room, out var local) && local.Remove(socketId) && local.Count == 0)
        {
            _rooms.Remove(room);
        }
    }

    /// <summary>One room's sockets here, with an array of them made once per change and shared by every reader.</summary>
    private sealed class Room
    {
        private readonly HashSet<string> _members = new(StringComparer.Ordinal);
        private string[]? _snapshot;

        public int Count => _members.Count;

        public void Add(string socketId)
        {
            if (_members.Add(socketId))
            {
                _snapshot = null;
            }
        }

        public bool Remove(string socketId)
        {
            if (!_members.Remove(socketId))
            {
                return false;
            }

            _snapshot = null;
            return true;
        }

        public string[] Members() => _snapshot ??= [.. _members];

        public bool IsListable(string name) => _members.Count > 1 || (_members.Count == 1 && !_members.Contains(name));
    }
}
