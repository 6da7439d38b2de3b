using System.Text.Json;
using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// The answer to a virtual request (sails.io.js calls it a JWR): status, headers, and the body as parsed
/// JSON when the action wrote JSON, else as text.
/// </summary>
public sealed record SocketResponse(int StatusCode, IReadOnlyDictionary<string, string> Headers, object? Body)
{
    private static readonly IReadOnlyDictionary<string, string> TextHeaders = new Dictionary<string, string> { ["content-type"] = "text/plain; charset=utf-8" };

    /// <summary>An answer made without running the pipeline, for a request that could not be run.</summary>
    public static SocketResponse Error(int statusCode, string message) => new(statusCode, TextHeaders, message);

    internal static object? ParseBody(byte[] body, string? contentType)
    {
        if (body.Length == 0)
        {
            return null;
        }

        // JSON the action wrote goes into the envelope as the bytes it is, checked but not parsed into a
        // document only to be serialized again; JSON that does not parse is handed over as text.
        if (contentType is not null && contentType.Contains("json", StringComparison.OrdinalIgnoreCase) && IsJson(body))
        {
            return new RawJsonPayload(body);
        }

        return System.Text.Encoding.UTF8.GetString(body);
    }

    private static bool IsJson(byte[] body)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            while (reader.Read())
            {
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
