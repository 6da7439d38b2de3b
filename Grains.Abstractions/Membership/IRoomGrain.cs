namespace Orleans.Rooms.Membership;

/// <summary>
/// One room, keyed by its name: which front ends hold members of it. The members themselves are kept by those
/// front ends, so a broadcast costs one message per front end and a join costs a grain call only when it is
/// the first on its front end. Changed only by <see cref="IFrontEndRoomsGrain"/>; it calls nothing but the
/// room directory. Add and Remove are idempotent.
/// </summary>
[Alias("rooms.IRoomGrain")]
public interface IRoomGrain : IGrainWithStringKey
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
    /// The front ends listed, asked for a room the directory lists: an activation that never had any is an
    /// entry that outlived its room (its silo went), and delists itself shortly unless joined meanwhile.
    /// </summary>
    [Alias("GetListedFrontEnds")]
    Task<string[]> GetListedFrontEnds();

    /// <summary>The front ends listed as holding members (a front end that just lost its last member may still be listed for a moment).</summary>
    [Alias("GetFrontEnds")]
    Task<string[]> GetFrontEnds(CancellationToken cancellationToken = default);
}

/// <summary>
/// The rooms one front end is listed in, keyed by front end id: every listing and delisting of that front end
/// in a room grain goes through here, so that when the front end dies without a goodbye its front-end grain
/// can take it out of every room it was in. Calls room grains only.
/// </summary>
[Alias("rooms.IFrontEndRoomsGrain")]
public interface IFrontEndRoomsGrain : IGrainWithStringKey
{
    /// <summary>Notes the rooms, then lists the front end in each (see <see cref="IRoomGrain.Add"/>). Throws when any room could not be told (the others may be listed).</summary>
    [Alias("Register")]
    Task Register(string[] rooms, bool listable = true, bool relist = false);

    /// <summary>Delists the front end from the rooms, then forgets them. Throws when any room could not be told.</summary>
    [Alias("Unregister")]
    Task Unregister(string[] rooms);

    /// <summary>Delists the front end from every room noted (the front end is gone). Returns how many could not be told (kept for a retry).</summary>
    [Alias("Purge")]
    Task<int> Purge();
}
