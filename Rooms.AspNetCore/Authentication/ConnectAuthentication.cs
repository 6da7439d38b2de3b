using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace Orleans.Rooms.Authentication;

/// <summary>
/// What each authentication scheme answered on a socket's connect request (the authentication middleware's default
/// scheme, the schemes of the hub's own authorization policy), kept in the request's <c>HttpContext.Items</c>: SignalR
/// keeps that context (or, for long polling, a copy of its items) for the connection's lifetime, so a socket request
/// finds it through <c>HubCallerContext.GetHttpContext()</c>. Written only while the connect request runs through
/// the pipeline, before the socket's first request; read by the socket's requests after that.
/// </summary>
internal sealed class ConnectAuthentication
{
    private static readonly object Key = new();

    private readonly Dictionary<string, AuthenticateResult> _results = new(StringComparer.Ordinal);

    /// <summary>The record of <paramref name="context"/>'s results, or null when no scheme ran on it.</summary>
    public static ConnectAuthentication? Of(HttpContext? context)
        => context?.Items.TryGetValue(Key, out var record) == true ? record as ConnectAuthentication : null;

    /// <summary>Notes what <paramref name="scheme"/> answered on <paramref name="context"/> (the last answer counts).</summary>
    public static void Record(HttpContext context, string scheme, AuthenticateResult result)
    {
        if (Of(context) is not { } record)
        {
            record = new ConnectAuthentication();
            context.Items[Key] = record;
        }

        record._results[scheme] = result;
    }

    /// <summary>
    /// What <paramref name="scheme"/> answered on the connect request, a copy of its ticket for each socket request (an
    /// app that changes a request's user changes no other's); no result when the scheme did not run there.
    /// </summary>
    public AuthenticateResult ResultFor(string scheme)
    {
        _results.TryGetValue(scheme, out var result);
        return result switch
        {
            null => AuthenticateResult.NoResult(),
            { Succeeded: true } => AuthenticateResult.Success(result.Ticket!.Clone()),
            _ => result,
        };
    }
}
