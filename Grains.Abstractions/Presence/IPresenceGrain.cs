namespace Orleans.Rooms.Presence;

/// <summary>
/// The presence of one room, keyed by the room's name: which sockets track themselves in it, each under a key
/// with its meta (docs/presence.md). Activated only for rooms someone tracks in, so a room without presence costs
/// nothing. It is the one sequencer of the room's presence: it numbers its changes and sends them, batched, as
/// <c>presence_diff</c> to every front end that holds members of the room. Its memory is rebuilt from the front
/// ends, which hold their own sockets' entries (<see cref="Apply"/> with <c>relist</c>).
/// </summary>
/// <remarks>
/// Called by front-end rooms grains (<see cref="Membership.IFrontEndRoomsGrain.Presence"/>) and its silo's sweeper; it
/// calls the room grain, the registry and front-end grains only from its own timer, never while a caller waits,
/// so no call chain comes back to it.
/// </remarks>
[Alias("rooms.IPresenceGrain")]
internal interface IPresenceGrain : IGrainWithStringKey
{
    /// <summary>
    /// Applies one front end's changes, in order, and answers the state when <see cref="PresenceBatch.WantState"/>:
    /// what a socket that just tracked is sent first.
    /// </summary>
    [Alias("Apply")]
    Task<PresenceState?> Apply(string frontEndId, PresenceBatch batch);

    /// <summary>
    /// The state, every acknowledged change in it, with the number of the last diff sent (<c>epoch.seq</c>): the diffs
    /// numbered after it are those to apply on top; the first of them may repeat what the state has.
    /// </summary>
    [Alias("GetState")]
    Task<PresenceState> GetState();

    /// <summary>Every entry of a front end that is gone leaves (once).</summary>
    [Alias("RemoveFrontEnd")]
    Task RemoveFrontEnd(string frontEndId);

    /// <summary><see cref="RemoveFrontEnd"/> from this grain's silo's sweeper: only if the front end last changed entries here at or before <paramref name="heldUpTo"/>.</summary>
    [Alias("RemoveGone")]
    Task RemoveGone(string frontEndId, long heldUpTo);
}
