using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Authentication;

/// <summary>
/// The app's <see cref="IAuthenticationService"/> (ASP.NET Core's own unless the app registered another), with a
/// socket's user fixed when it connects. The authentication middleware (default scheme) and the policy evaluator
/// (<c>[Authorize(AuthenticationSchemes = ...)]</c>, a policy's schemes) authenticate through this service; so:
/// <list type="bullet">
/// <item>on the hub's requests (negotiate, connect), each scheme's result is recorded (<see cref="ConnectAuthentication"/>);</item>
/// <item>on a socket request, a scheme answers what it answered when the socket connected, instead of reading the
/// request's own headers, which lack the connection's credentials (a query <c>access_token</c>, a cookie, a header of the
/// WebSocket handshake) and must not replace them: a scheme that did not run on the connect request has no result.
/// With <see cref="SocketAuthenticationOptions.AllowRequestCredentials"/>, a scheme that succeeds on the request's own
/// headers answers with their user first.</item>
/// </list>
/// Challenge, forbid, sign-in and sign-out go to the app's service as they are.
/// </summary>
internal sealed class SocketAuthenticationService(IAuthenticationService inner, IAuthenticationSchemeProvider schemes, IOptions<SocketAuthenticationOptions> options) : IAuthenticationService
{
    public async Task<AuthenticateResult> AuthenticateAsync(HttpContext context, string? scheme)
    {
        // The default scheme is named here, as the app's service would resolve it, to be recorded and looked up by name;
        // without one the app's service throws its own error.
        scheme ??= (await schemes.GetDefaultAuthenticateSchemeAsync())?.Name;
        if (scheme is null)
        {
            return await inner.AuthenticateAsync(context, scheme);
        }

        if (context.Features.Get<ISocketRequestFeature>() is SocketRequestFeature socket)
        {
            if (options.Value.AllowRequestCredentials && await inner.AuthenticateAsync(context, scheme) is { Succeeded: true } own)
            {
                return own;
            }

            return socket.ConnectAuthentication?.ResultFor(scheme) ?? AuthenticateResult.NoResult();
        }

        var result = await inner.AuthenticateAsync(context, scheme);
        if (IsHubRequest(context))
        {
            ConnectAuthentication.Record(context, scheme, result);
        }

        return result;
    }

    public Task ChallengeAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) => inner.ChallengeAsync(context, scheme, properties);

    public Task ForbidAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) => inner.ForbidAsync(context, scheme, properties);

    public Task SignInAsync(HttpContext context, string? scheme, ClaimsPrincipal principal, AuthenticationProperties? properties) => inner.SignInAsync(context, scheme, principal, properties);

    public Task SignOutAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) => inner.SignOutAsync(context, scheme, properties);

    /// <summary>
    /// Whether the request is one of the socket hub's, or one routing has not matched yet (an app that authenticates
    /// before routing): other requests of the app record nothing.
    /// </summary>
    private static bool IsHubRequest(HttpContext context)
        => context.GetEndpoint() is not { } endpoint || endpoint.Metadata.GetMetadata<HubMetadata>()?.HubType == typeof(SocketHub);
}
