namespace Orleans.Rooms;

/// <summary>
/// Who a socket request is, bound from <c>Rooms:Authentication</c>. A socket's user is fixed when it connects: its
/// requests answer every authentication scheme that ran on the connect request with that scheme's result then
/// (<c>Orleans.Rooms.Authentication.SocketAuthenticationService</c>), so <c>[Authorize(AuthenticationSchemes = ...)]</c>
/// holds over a socket as over HTTP.
/// </summary>
public sealed class SocketAuthenticationOptions : ISelfValidatingOptions
{
    /// <summary>The configuration section these settings are bound from.</summary>
    public const string SectionName = "Rooms:Authentication";

    /// <summary>
    /// Whether a socket request's own credentials (an <c>Authorization</c> or <c>Cookie</c> header in its envelope)
    /// may authenticate it: a scheme that succeeds on the request's headers then answers with the user they name,
    /// instead of the socket's. Off by default: a page's script could otherwise act as another user on a socket that
    /// was authenticated as someone else.
    /// </summary>
    public bool AllowRequestCredentials { get; set; }

    /// <inheritdoc />
    public string? Validate() => null;
}
