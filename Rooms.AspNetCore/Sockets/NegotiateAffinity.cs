using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// Names the connection token of a SignalR negotiate answer in a response header, so that a load balancer can
/// send the connect that follows (<c>?id=&lt;connectionToken&gt;</c>) to the front end that negotiated: the token
/// exists only there. deploy/haproxy/haproxy.cfg learns it with <c>stick store-response res.hdr(...)</c> and
/// matches it with <c>stick match url_param(id)</c>. The answer is small (a few hundred bytes), so it is
/// buffered whole, the header set, and the body written unchanged; the client already has the token in the body.
/// </summary>
internal static class NegotiateAffinity
{
    public const string HeaderName = "X-Rooms-Connection-Token";

    /// <summary>A negotiate answer is far smaller; anything larger is passed on without the header.</summary>
    private const int MaxBuffered = 16 * 1024;

    public static async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var body = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = body;
        }

        if (context.Response.StatusCode == StatusCodes.Status200OK && buffer.Length <= MaxBuffered
            && TokenOf(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)) is { } token && !context.Response.HasStarted)
        {
            context.Response.Headers[HeaderName] = token;
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(body, context.RequestAborted);
    }

    /// <summary>The top-level <c>connectionToken</c> of a negotiate answer (docs/protocol.md: version 1 only), or null.</summary>
    internal static string? TokenOf(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isToken = reader.ValueTextEquals("connectionToken"u8);
                reader.Read();
                if (isToken)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not the JSON of a negotiate answer: no header.
        }

        return null;
    }
}
