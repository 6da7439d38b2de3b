using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// Authenticates whoever names themselves in a header, or in an access token as SignalR's clients send one (header
/// <c>Authorization: Bearer &lt;name&gt;</c>, or query <c>access_token</c> where a WebSocket cannot carry headers), for as
/// many milliseconds as another header says (no expiry without it): enough to see the pipeline apply authentication
/// and SignalR act on its expiry.
/// </summary>
public sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "header";
    public const string Header = "x-user";
    public const string ExpiresInHeader = "x-expires-in-ms";
    public const string AccessTokenQuery = "access_token";
    private const string BearerPrefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var name = Request.Headers[Header].ToString();
        if (string.IsNullOrEmpty(name))
        {
            var authorization = Request.Headers.Authorization.ToString();
            name = authorization.StartsWith(BearerPrefix, StringComparison.Ordinal) ? authorization[BearerPrefix.Length..] : Request.Query[AccessTokenQuery].ToString();
        }

        if (string.IsNullOrEmpty(name))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var properties = new AuthenticationProperties();
        if (int.TryParse(Request.Headers[ExpiresInHeader].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds))
        {
            properties.ExpiresUtc = DateTimeOffset.UtcNow.AddMilliseconds(milliseconds);
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), properties, SchemeName)));
    }
}
