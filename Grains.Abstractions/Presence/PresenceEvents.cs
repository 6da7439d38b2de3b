namespace Orleans.Rooms.Presence;

/// <summary>The client methods presence pushes (docs/presence.md).</summary>
public static class PresenceEvents
{
    /// <summary>To a socket that just tracked itself in a room: the room's state, with its version.</summary>
    public const string State = "presence_state";

    /// <summary>To every member of a room, batched: the joins and leaves since the previous diff, with its version.</summary>
    public const string Diff = "presence_diff";
}
