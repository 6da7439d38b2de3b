using Microsoft.AspNetCore.Http;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>Sails' <c>req.isSocket</c>, <c>req.socket</c> and <c>req.param()</c> for endpoint code.</summary>
public static class SocketRequestExtensions
{
    private static readonly object ParametersKey = new();

    /// <summary>True when the request came over a socket (<c>req.isSocket</c>).</summary>
    public static bool IsSocketRequest(this HttpContext context) => context.Features.Get<ISocketRequestFeature>() is not null;

    /// <summary>The id of the socket that sent the request, or null for a plain HTTP request.</summary>
    public static string? GetSocketId(this HttpContext context) => context.Features.Get<ISocketRequestFeature>()?.SocketId;

    /// <summary>
    /// The request's parameters (<c>req.param()</c>): route values, then the body (JSON object or form),
    /// then the query string. Read once per request.
    /// </summary>
    public static async ValueTask<RequestParameters> GetParametersAsync(this HttpContext context)
    {
        if (context.Items.TryGetValue(ParametersKey, out var cached) && cached is RequestParameters parameters)
        {
            return parameters;
        }

        parameters = await RequestParameters.ReadAsync(context);
        context.Items[ParametersKey] = parameters;
        return parameters;
    }
}
