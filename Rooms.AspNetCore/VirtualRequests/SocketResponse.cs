using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// The answer to a virtual request (sails.io.js calls it a JWR): status, headers, and the body as parsed
/// JSON when the action wrote JSON, else as text. A header's value is a string, or a list of strings when the
/// action set it more than once (two <c>Set-Cookie</c>s, say), as Node's response headers have it.
/// </summary>
[JsonConverter(typeof(Converter))]
public sealed record SocketResponse(int StatusCode, IReadOnlyDictionary<string, object> Headers, object? Body)
{
    private const string TextContentType = "text/plain; charset=utf-8";
    private static readonly IReadOnlyDictionary<string, object> TextHeaders = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase) { ["content-type"] = TextContentType };
    private static readonly IReadOnlyDictionary<string, object> JsonHeaders = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase) { ["content-type"] = VirtualRequest.JsonContentType };

    /// <summary>An answer made without running the pipeline, for a request that could not be run.</summary>
    public static SocketResponse Error(int statusCode, string message) => new(statusCode, TextHeaders, message);

    /// <summary>
    /// An answer for a request that failed on the server: what failed in words for the client, and the id
    /// under which the details are logged (<c>{"error":"...","id":"..."}</c>).
    /// </summary>
    public static SocketResponse Failure(int statusCode, string message, string id)
        => new(statusCode, JsonHeaders, new Dictionary<string, string> { ["error"] = message, ["id"] = id });

    internal static IReadOnlyDictionary<string, object> HeadersOf(Microsoft.AspNetCore.Http.IHeaderDictionary headers)
    {
        // Most answers carry one header, a JSON or a text content type: the shared dictionary of that (never written to).
        if (headers.Count == 1 && headers.ContentType is [var only])
        {
            switch (only)
            {
                case VirtualRequest.JsonContentType:
                    return JsonHeaders;
                case TextContentType:
                    return TextHeaders;
            }
        }

        var result = new Dictionary<string, object>(headers.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in headers)
        {
            result[LowerCase(name)] = values.Count == 1 ? values[0]! : values.ToArray();
        }

        return result;
    }

    // The names actions set most, lower-cased without a new string each response.
    private static string LowerCase(string name) => name switch
    {
        "Content-Type" => "content-type",
        "Content-Length" => "content-length",
        "Cache-Control" => "cache-control",
        "Set-Cookie" => "set-cookie",
        "Location" => "location",
        _ => name.ToLowerInvariant(),
    };

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

    /// <summary>
    /// Writes the envelope of docs/protocol.md (<c>{"statusCode":…,"headers":{…},"body":…}</c>, the same names on
    /// any wire and whatever the hub's naming policy) by hand: the serializer's own object converter took a stack of
    /// frames per answer for its nested dictionary and values.
    /// </summary>
    private sealed class Converter : JsonConverter<SocketResponse>
    {
        private static readonly JsonEncodedText StatusCodeName = JsonEncodedText.Encode("statusCode");
        private static readonly JsonEncodedText HeadersName = JsonEncodedText.Encode("headers");
        private static readonly JsonEncodedText BodyName = JsonEncodedText.Encode("body");

        // Read as the serializer read the record before (the in-process socket of the warm-up reads its answers):
        // headers and body as the serializer reads an object, unknown names skipped.
        public override SocketResponse Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("A socket response is a JSON object.");
            }

            var statusCode = 0;
            IReadOnlyDictionary<string, object>? headers = null;
            object? body = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                if (string.Equals(name, "statusCode", StringComparison.OrdinalIgnoreCase))
                {
                    statusCode = reader.GetInt32();
                }
                else if (string.Equals(name, "headers", StringComparison.OrdinalIgnoreCase))
                {
                    headers = JsonSerializer.Deserialize<Dictionary<string, object>>(ref reader, options);
                }
                else if (string.Equals(name, "body", StringComparison.OrdinalIgnoreCase))
                {
                    body = JsonSerializer.Deserialize<object>(ref reader, options);
                }
                else
                {
                    reader.Skip();
                }
            }

            return new SocketResponse(statusCode, headers ?? new Dictionary<string, object>(), body);
        }

        public override void Write(Utf8JsonWriter writer, SocketResponse value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            writer.WriteNumber(StatusCodeName, value.StatusCode);
            writer.WriteStartObject(HeadersName);
            foreach (var (name, header) in value.Headers)
            {
                writer.WritePropertyName(name);
                WriteValue(writer, header, options);
            }

            writer.WriteEndObject();
            writer.WritePropertyName(BodyName);
            WriteValue(writer, value.Body, options);
            writer.WriteEndObject();
        }

        private static void WriteValue(Utf8JsonWriter writer, object? value, JsonSerializerOptions options)
        {
            switch (value)
            {
                case null:
                    writer.WriteNullValue();
                    break;
                case string text:
                    writer.WriteStringValue(text);
                    break;
                case RawJsonPayload json:
                    writer.WriteRawValue(json.Utf8Json, skipInputValidation: true);
                    break;
                case string[] texts:
                    writer.WriteStartArray();
                    foreach (var text in texts)
                    {
                        writer.WriteStringValue(text);
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    JsonSerializer.Serialize(writer, value, value.GetType(), options);
                    break;
            }
        }
    }
}
