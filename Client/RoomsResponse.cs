using System.Text.Json;

namespace Orleans.Rooms.Client;

/// <summary>
/// The answer to a virtual request (the envelope docs/protocol.md defines; sails.io.js calls it a JWR): the
/// status code, the response headers and the body, parsed when the action wrote JSON, else a JSON string.
/// </summary>
public sealed class RoomsResponse
{
    private readonly IReadOnlyDictionary<string, string[]> _values;

    internal RoomsResponse(int statusCode, IReadOnlyDictionary<string, string[]> headers, JsonElement body)
    {
        StatusCode = statusCode;
        _values = headers;
        Headers = headers.ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
        Body = body;
    }

    /// <summary>The HTTP status code the action answered with.</summary>
    public int StatusCode { get; }

    /// <summary>Whether <see cref="StatusCode"/> is 2xx.</summary>
    public bool IsSuccess => StatusCode is >= 200 and < 300;

    /// <summary>The response headers, names compared without case; a header set more than once reads as its values joined by ", ".</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Every value of header <paramref name="name"/> (one per time it was set, e.g. each <c>Set-Cookie</c>); empty when absent.</summary>
    public IReadOnlyList<string> HeaderValues(string name) => _values.TryGetValue(name, out var values) ? values : [];

    /// <summary>The body: the JSON the action wrote, or its text as a JSON string; JSON null when the action wrote nothing.</summary>
    public JsonElement Body { get; }

    /// <summary>The body when it is text (a plain-text answer such as <c>`roomName` is required.</c>), else null.</summary>
    public string? Text => Body.ValueKind == JsonValueKind.String ? Body.GetString() : null;

    /// <summary>The body read as <typeparamref name="T"/> (web defaults: camelCase, case-insensitive names).</summary>
    public T? As<T>(JsonSerializerOptions? options = null)
        => Body.ValueKind == JsonValueKind.Undefined ? default : Body.Deserialize<T>(options ?? JsonSerializerOptions.Web);

    /// <summary>Throws <see cref="RoomsRequestException"/> unless the status code is 2xx; returns this response otherwise.</summary>
    public RoomsResponse EnsureSuccess()
        => IsSuccess ? this : throw new RoomsRequestException(this);

    /// <inheritdoc />
    public override string ToString() => $"{StatusCode} {(Body.ValueKind == JsonValueKind.Undefined ? string.Empty : Body.GetRawText())}";

    internal static RoomsResponse Parse(JsonElement envelope)
    {
        if (envelope.ValueKind != JsonValueKind.Object || !envelope.TryGetProperty("statusCode", out var status) || !status.TryGetInt32(out var statusCode))
        {
            throw new InvalidDataException($"The front end answered with something that is not a response envelope: {Clip(envelope.GetRawText())}");
        }

        // A header set once is a string; one set more than once is a list of strings.
        var headers = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        if (envelope.TryGetProperty("headers", out var h) && h.ValueKind == JsonValueKind.Object)
        {
            foreach (var header in h.EnumerateObject())
            {
                headers[header.Name] = header.Value.ValueKind switch
                {
                    JsonValueKind.String => [header.Value.GetString()!],
                    JsonValueKind.Array => [.. header.Value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText())],
                    _ => [header.Value.GetRawText()],
                };
            }
        }

        var body = envelope.TryGetProperty("body", out var b) ? b.Clone() : default;
        return new RoomsResponse(statusCode, headers, body);
    }

    private static string Clip(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
