namespace Orleans.Rooms.Membership;

/// <summary>
/// One room, keyed by its name: which front ends hold members of it. The members themselves are kept by those
/// front ends, so a broadcast costs one message per front end and a join costs a grain call only when it is
/// the first on its front end. Changed only by <see cref="IFrontEndRoomsGrain"/> (and its silo's sweeper, for a front end that is gone); it calls nothing but the
/// room directory. Add and Remove are idempotent.
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
}
