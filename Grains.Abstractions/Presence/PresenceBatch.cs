namespace Orleans.Rooms.Presence;

/// <summary>
/// One front end's presence changes in one room, applied in order. <paramref name="Relist"/>: the front end
/// lists entries it holds again (its grain may have been lost with a silo); entries already there stay silent,
/// and entries not there join silently too, as they were in the room's state before.
/// </summary>
/// <param name="Changes">The changes, in the order they were made.</param>
/// <param name="StateTo">The sockets of this batch that just tracked and are sent the state: answer it (null: none). The
/// next diff is not sent to them when it holds nothing that state has not (their own join, when nothing changed since).</param>
/// <param name="Relist">The entries are listed again, not changed: no diff for them.</param>
/// <param name="DiffDelay">How long changes wait to be sent together (the front end's <c>Rooms:Presence:DiffDelay</c>).</param>
/// <param name="List">Also list the front end in the room, as <see cref="Membership.IFrontEndRoomsGrain.Register"/> does: a
/// track joined a room new to its front end, and the listing rides with the entry instead of in a call of its own.</param>
/// <param name="Listable">With <paramref name="List"/>: whether the room is listed in the directory.</param>
[GenerateSerializer, Immutable, Alias("rooms.PresenceBatch")]
internal sealed record PresenceBatch(
    [property: Id(0)] PresenceChange[] Changes,
    [property: Id(6)] string[]? StateTo,
    [property: Id(2)] bool Relist,
    [property: Id(3)] TimeSpan DiffDelay,
    [property: Id(4)] bool List = false,
    [property: Id(5)] bool Listable = false);

/// <summary>
/// A socket tracked under <paramref name="Key"/> with <paramref name="Meta"/> (also a meta update), or, when
/// <paramref name="Tracked"/> is false, no longer tracked (the key and meta it had, for the leave).
/// </summary>
/// <param name="SocketId">The socket: the entry's <c>ref</c>.</param>
/// <param name="Key">The key it is listed under (a user id, by default).</param>
/// <param name="Meta">Its meta as a UTF-8 JSON object, <c>ref</c> included.</param>
/// <param name="Tracked">Tracked (a join or update) or untracked (a leave). An entry tracked again as it was (from
/// another front end: its socket moved there) belongs to the front end that sent it, and makes no diff.</param>
[GenerateSerializer, Immutable, Alias("rooms.PresenceChange")]
internal sealed record PresenceChange(
    [property: Id(0)] string SocketId,
    [property: Id(1)] string Key,
    [property: Id(2)] byte[] Meta,
    [property: Id(3)] bool Tracked);

/// <summary>
/// A room's presence state as UTF-8 JSON (<c>{ "key": { "metas": [ ... ] } }</c>), its version
/// (<c>epoch.seq</c>: the grain's activation, the last diff it numbered), and whether it may be missing entries
/// (activated while the cluster heals, before the front ends listed theirs again).
/// </summary>
[GenerateSerializer, Immutable, Alias("rooms.PresenceState")]
internal sealed record PresenceState(
    [property: Id(0)] byte[] State,
    [property: Id(1)] string Version,
    [property: Id(2)] bool Complete);

/// <summary>One entry of a socket, as it moves with the socket to another front end (docs/design.md, "Moving a socket").</summary>
[GenerateSerializer, Immutable, Alias("rooms.PresenceEntry")]
internal sealed record PresenceEntry(
    [property: Id(0)] string Room,
    [property: Id(1)] string Key,
    [property: Id(2)] byte[] Meta);
