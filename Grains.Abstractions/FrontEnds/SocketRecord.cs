namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// What the cluster keeps of one resumable socket of a front end, so that the socket outlives that front end
/// (docs/design.md, "Surviving a front end"): its rooms, its presence entries, and the hashes of the resume tokens
/// that may come back for it. Sent by the front end (in <see cref="FrontEndJournal"/>) whenever either changes.
/// </summary>
/// <param name="SocketId">The socket.</param>
/// <param name="Rooms">Its rooms now (own-id room included); null when the socket ended.</param>
/// <param name="TokenHashes">SHA-256 of the token handed out last and of the one before it (a client may not have received the last); null: unchanged.</param>
/// <param name="Presence">Its presence entries now; null: none.</param>
[GenerateSerializer, Immutable, Alias("rooms.SocketRecord")]
internal sealed record SocketRecord(
    [property: Id(0)] string SocketId,
    [property: Id(1)] string[]? Rooms,
    [property: Id(2)] byte[][]? TokenHashes,
    [property: Id(3)] Presence.PresenceEntry[]? Presence = null);
