using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Orleans.Rooms;

/// <summary>
/// Serves rooms.js, the browser client (the sails.io.js API over the official SignalR client), built from
/// <c>clients/rooms.js</c> and embedded in this assembly: a page that loads it gets a global <c>io</c>
/// whose <c>io.socket</c> connects to this server.
/// </summary>
public static class RoomsScriptEndpoints
{
    private const string ResourceName = "rooms.js";

    private static readonly Lazy<(byte[] Bytes, string ETag)> Script = new(() =>
    {
        using var stream = typeof(RoomsScriptEndpoints).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing: build clients/rooms.js.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var bytes = copy.ToArray();
        return (bytes, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..32]}\"");
    });

    /// <summary>Maps <c>GET</c> and <c>HEAD /rooms.js</c> (or <paramref name="pattern"/>), revalidated by ETag on every use.</summary>
    public static IEndpointConventionBuilder MapRoomsScript(this IEndpointRouteBuilder endpoints, string pattern = "/rooms.js")
        => endpoints.MapMethods(pattern, [HttpMethods.Get, HttpMethods.Head], Serve).ExcludeFromDescription();

    private static IResult Serve(HttpContext http)
    {
        var (bytes, etag) = Script.Value;
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers.ETag = etag;
        if (http.Request.Headers.IfNoneMatch.Contains(etag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(bytes, "text/javascript; charset=utf-8");
    }
}
