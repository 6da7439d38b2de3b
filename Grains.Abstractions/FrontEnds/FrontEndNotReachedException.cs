namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// A front-end grain could not hand a call to its front end: its own silo was stopping (the runtime cancelled the
/// send), or the message was rejected on the way, so nothing reached the front end; or, for a read, the front end,
/// alive (its lease current), did not answer. The front end is not counted as gone for it, and sending the call
/// again is safe: the retry reaches the grain where it lives next, or the front end once it can be reached again.
/// </summary>
[GenerateSerializer, Alias("rooms.FrontEndNotReachedException")]
internal sealed class FrontEndNotReachedException : Exception
{
    public FrontEndNotReachedException(string frontEndId, string what, Exception cause)
        : base($"Front end '{frontEndId}' was not reached ({what}): {cause.GetType().Name} on the way from its grain. Send the call again.", cause)
    {
        FrontEndId = frontEndId;
    }

    public FrontEndNotReachedException(string frontEndId, string what, string why)
        : base($"Front end '{frontEndId}' was not reached ({what}): {why}. Send the call again.")
    {
        FrontEndId = frontEndId;
    }

    /// <summary>The front end that was not reached.</summary>
    [Id(0)]
    public string FrontEndId { get; }
}
