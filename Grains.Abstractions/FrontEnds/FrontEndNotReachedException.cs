namespace Orleans.Rooms.FrontEnds;

/// <summary>
/// A front-end grain could not hand a call to its front end, and nothing reached the front end: its own silo was
/// stopping (the runtime cancelled the send), or the message was rejected on the way. The front end is not counted
/// as gone for it, and sending the call again is safe: the retry reaches the grain where it lives next, which
/// reaches the front end once it has renewed there.
/// </summary>
[GenerateSerializer, Alias("rooms.FrontEndNotReachedException")]
internal sealed class FrontEndNotReachedException : Exception
{
    public FrontEndNotReachedException(string frontEndId, string what, Exception cause)
        : base($"Front end '{frontEndId}' was not reached ({what}): {cause.GetType().Name} on the way from its grain. Nothing reached it; send the call again.")
    {
        FrontEndId = frontEndId;
    }

    /// <summary>The front end that was not reached.</summary>
    [Id(0)]
    public string FrontEndId { get; }
}
