using Orleans.Rooms.Presence;

namespace Orleans.Rooms.Membership;

/// <summary>
/// One room, keyed by its name: which front ends hold members of it, and its presence (docs/presence.md) once
/// someone tracks in it. The members themselves are kept by those front ends, so a broadcast costs one message per
/// front end and a join costs a grain call only when it is the first on its front end. Changed only by
/// <see cref="IFrontEndRoomsGrain"/> (and its silo's sweeper, for a front end that is gone); while a caller waits it
/// calls nothing but the room directory. Add and Remove are idempotent. The presence is the one sequencer of the
/// room's presence: it numbers its changes and sends them, batched, as <c>presence_diff</c> to every front end of
/// the room; its memory is rebuilt from the front ends, which hold their own sockets' entries
/// (<see cref="ApplyPresence"/> with <see cref="PresenceBatch.Relist"/>).
/// </summary>
[Alias("rooms.IRoomGrain")]
internal interface IRoomGrain : IGrainWithStringKey
{
    /// <summary>
    /// Lists <paramref name="frontEndId"/> as holding members. <paramref name="listable"/>: the room is one
    /// <c>Rooms()</c> lists (not only a socket's own-id room); it then enters the room directory, and with
    /// <paramref name="relist"/> (a rebuild) enters it again.
    /// </summary>
    [Alias("Add")]
    Task Add(string frontEndId, bool listable = true, bool relist = false);

    [Alias("Remove")]
    Task Remove(string frontEndId);

    /// <summary>
    /// <see cref="Remove"/> for a front end the registry no longer lists, sent by the sweeper of this grain's own
    /// silo: done only if the front end was last added here at or before <paramref name="heldUpTo"/> (a sequence
    /// number of that silo's holdings), so a front end that came back and listed the room again since stays.
    /// </summary>
    [Alias("RemoveGone")]
    Task RemoveGone(string frontEndId, long heldUpTo);

    /// <summary>
    /// The front ends listed, asked for a room the directory lists: an activation that never had any is an
    /// entry that outlived its room (its silo went), and delists itself shortly unless joined meanwhile.
    /// </summary>
    [Alias("GetListedFrontEnds")]
    Task<RoomFrontEnds> GetListedFrontEnds();

    /// <summary>
    /// The front ends listed as holding members (a front end that just lost its last member may still be listed
    /// for a moment), and whether the list is whole: not while the grain may have lost its memory with a silo.
    /// </summary>
    [Alias("GetFrontEnds")]
    Task<RoomFrontEnds> GetFrontEnds(CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies one front end's presence changes, in order, and answers the state when <see cref="PresenceBatch.StateTo"/> names sockets:
    /// what a socket that just tracked is sent first. With <see cref="PresenceBatch.List"/>, <see cref="Add"/>s the front end first.
    /// </summary>
    [Alias("ApplyPresence")]
    Task<PresenceState?> ApplyPresence(string frontEndId, PresenceBatch batch);

    /// <summary>
    /// The presence state, every acknowledged change in it, with the number of the last diff sent (<c>epoch.seq</c>): the diffs
    /// numbered after it are those to apply on top; the first of them may repeat what the state has.
    /// </summary>
    [Alias("GetPresence")]
    Task<PresenceState> GetPresence();

    /// <summary>Every presence entry of a front end that is gone leaves (once).</summary>
    [Alias("RemovePresenceOf")]
    Task RemovePresenceOf(string frontEndId);

    /// <summary><see cref="RemovePresenceOf"/> from this grain's silo's sweeper: only if the front end last changed entries here at or before <paramref name="heldUpTo"/>.</summary>
    [Alias("RemoveGonePresence")]
    Task RemoveGonePresence(string frontEndId, long heldUpTo);
}
