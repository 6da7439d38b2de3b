namespace Orleans.Rooms;

/// <summary>
/// Which web pages may open a socket (Sails' <c>onlyAllowOrigins</c>), bound from <c>Rooms:Origins</c>.
/// Checked on the negotiation and on the connect request itself, since a WebSocket handshake skips CORS.
/// A request with no <c>Origin</c> header (not from a browser) is let through: the check protects
/// visitors' browsers from foreign pages, not the server from other programs.
/// </summary>
public sealed class SocketOriginOptions : ISelfValidatingOptions
{
    /// <summary>The configuration section these settings are bound from: <c>Rooms:Origins</c>.</summary>
    public const string SectionName = "Rooms:Origins";

    /// <summary>Origins allowed besides the front end's own, e.g. <c>https://app.example.com</c>; <c>*</c> allows every origin.</summary>
    public string[] Allowed { get; set; } = [];

    /// <summary>Whether pages served from this machine (<c>localhost</c>, <c>127.0.0.1</c>, <c>[::1]</c>, any port) are allowed.</summary>
    public bool AllowLoopback { get; set; } = true;

    /// <inheritdoc />
    public string? Validate()
    {
        for (var i = 0; i < Allowed.Length; i++)
        {
            var origin = Allowed[i];
            if (origin == "*")
            {
                continue;
            }

            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.PathAndQuery != "/" || origin.EndsWith('/') || !string.IsNullOrEmpty(uri.UserInfo))
            {
                return $"Rooms:Origins:Allowed:{i} must be an origin such as https://app.example.com (scheme, host and optional port, no path) or *; was '{origin}'.";
            }
        }

        return null;
    }
}
