using Orleans.Rooms.Presence;

namespace Orleans.Rooms.Membership;

/// <summary>
/// The rooms one front end is listed in, keyed by front end id: every listing and delisting of that front end
/// in a room grain goes through here, so that when the front end dies without a goodbye its front-end grain
/// can take it out of every room it was in, and make its presence entries there leave. Calls room grains only.
/// </summary>
[Alias("rooms.IFrontEndRoomsGrain")]
internal interface IFrontEndRoomsGrain : IGrainWithStringKey
{
    /// <summary>Notes the rooms, then lists the front end in each (see <see cref="IRoomGrain.Add"/>). Throws when any room could not be told (the others may be listed).</summary>
    [Alias("Register")]
    Task Register(string[] rooms, bool listable = true, bool relist = false);

    /// <summary>Delists the front end from the rooms, then forgets them. Throws when any room could not be told.</summary>
    [Alias("Unregister")]
    Task Unregister(string[] rooms);

    /// <summary>
    /// Passes the front end's presence changes in <paramref name="room"/> to its room grain
    /// (<see cref="IRoomGrain.ApplyPresence"/>), noting the room first, so that a purge makes the front end's entries leave;
    /// with <see cref="PresenceBatch.List"/>, lists the front end in the room too, as <see cref="Register"/> does.
    /// </summary>
    [Alias("Presence")]
    Task<PresenceState?> Presence(string room, PresenceBatch batch);

    /// <summary>Delists the front end from every room noted and makes its presence entries leave (the front end is gone). Returns how many could not be told (kept for a retry).</summary>
    [Alias("Purge")]
    Task<int> Purge();
}
