using Orleans.Rooms.Membership;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Errors;

/// <summary>
/// The answers the library gives for its own refusals, without app code (docs/protocol.md, "Errors"): a bad room
/// or event name, an empty or missing socket, too many rooms, a bad request parameter, a request that is not a
/// socket request: 400; an unknown socket: 404; as ProblemDetails naming what was wrong, over HTTP and over a
/// socket alike. An app that catches them itself (the example app's routes do) answers as it likes.
/// </summary>
public static class RoomsErrors
{
    /// <summary>Marks an <see cref="ArgumentException"/> as one <see cref="IRoomService"/> threw for its input (see <see cref="StatusCodeOf"/>).</summary>
    private const string RefusedKey = "Orleans.Rooms.Refused";

    /// <summary>The status code the library answers <paramref name="exception"/> with, or null when it is not one of its refusals.</summary>
    public static int? StatusCodeOf(Exception exception) => exception switch
    {
        SocketNotFoundException or Presence.PresenceNotTrackedException => 404,
        NotASocketRequestException or RoomLimitExceededException or BadParameterException => 400,
        ArgumentException argument when argument.Data.Contains(RefusedKey) => 400,
        _ => null,
    };

    /// <summary>For an exception filter (<c>catch (ArgumentException ex) when (RoomsErrors.Refused(ex))</c>): marks it, and catches nothing.</summary>
    internal static bool Refused(ArgumentException exception)
    {
        exception.Data[RefusedKey] = true;
        return false;
    }

    /// <summary>Marks and returns a new refusal, to throw.</summary>
    internal static ArgumentException Refusal(string message, string paramName)
    {
        var exception = new ArgumentException(message, paramName);
        exception.Data[RefusedKey] = true;
        return exception;
    }
}
