namespace Orleans.Rooms.VirtualRequests;

/// <summary>An <c>HttpContext</c> was passed as "a socket" but the request did not come over a socket.</summary>
public sealed class NotASocketRequestException(string paramName)
    : ArgumentException("This request did not come over a socket, so it names no socket: check HttpContext.IsSocketRequest() before passing the request as a socket.", paramName);
