using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>A parsed, valid request envelope (docs/protocol.md, "Virtual requests").</summary>
/// <param name="Method">The HTTP method, upper case.</param>
/// <param name="Path">The path, percent-decoded as a server decodes it.</param>
/// <param name="Query">The query string, with its leading <c>?</c> when there is one.</param>
/// <param name="RawTarget">The path and query as sent.</param>
/// <param name="Headers">The request's headers.</param>
/// <param name="Body">The body's bytes, when it is sent as text that is not JSON.</param>
/// <param name="ContentType">The body's content type.</param>
/// <param name="JsonBody">The body as the hub protocol already parsed it, when it is sent as JSON (its bytes are read from it).</param>
internal sealed record VirtualRequest(string Method, string Path, string Query, string RawTarget, IReadOnlyDictionary<string, string> Headers, byte[]? Body, string? ContentType, JsonElement? JsonBody)
{
    /// <summary>The body's length in bytes, null without a body.</summary>
    public long? BodyLength => Body?.Length ?? (JsonBody is { } json ? JsonMarshal.GetRawUtf8Value(json).Length : null);

    /// <summary>A stream of the body's bytes (a JSON body's, copied from the parsed envelope only when read).</summary>
    public Stream OpenBody() => Body is not null ? new MemoryStream(Body, writable: false)
        : JsonBody is { } json ? new MemoryStream(JsonMarshal.GetRawUtf8Value(json).ToArray(), writable: false)
        : Stream.Null;

    /// <summary>The content type of a JSON body whose request names none.</summary>
    public const string JsonContentType = "application/json; charset=utf-8";

    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    private static readonly Dictionary<string, string> NoHeaders = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads an envelope; on failure <paramref name="error"/> says what is wrong with it.</summary>
    public static bool TryParse(JsonElement envelope, out VirtualRequest? request, out string? error)
    {
        request = null;
        error = Check(envelope, out var method, out var url, out var headers, out var data);
        if (error is not null)
        {
            return false;
        }

        var queryStart = url!.IndexOf('?');
        var path = queryStart < 0 ? url : url[..queryStart];
        var query = queryStart < 0 ? string.Empty : url[queryStart..];
        string decodedPath;
        try
        {
            decodedPath = PathString.FromUriComponent(path).Value ?? "/";
        }
        catch (InvalidOperationException)
        {
            // As Kestrel answers a request line whose path decodes to a NUL.
            error = $"`url` must not decode to a null character: '{Clip(path)}'.";
            return false;
        }

        byte[]? body = null;
        JsonElement? jsonBody = null;
        string? contentType = null;
        headers?.TryGetValue("content-type", out contentType);
        if (data is { ValueKind: JsonValueKind.Object } fields && method is "GET" or "DELETE")
        {
            // As an HTTP GET has no body, a GET's (and a DELETE's) data are query parameters (what sails.io.js sends
            // as `data` for io.socket.get), so [FromQuery] and minimal-API binding see them as over HTTP.
            if (!TryAppendQuery(fields, ref query, out error))
            {
                return false;
            }
        }
        else if (data is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } value)
        {
            if (value.ValueKind == JsonValueKind.String && contentType is not null && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
            {
                // A string body with a non-JSON content type (a form, say) is sent as the text it is.
                if (!TryGetText(value, out var text))
                {
                    error = "`data` is not valid Unicode text (it has a lone surrogate).";
                    return false;
                }

                body = Encoding.UTF8.GetBytes(text);
            }
            else
            {
                contentType ??= JsonContentType;
                jsonBody = value;
            }
        }

        request = new VirtualRequest(method!, decodedPath, query, path + query, headers ?? NoHeaders, body, contentType, jsonBody);
        return true;
    }

    /// <summary>
    /// Appends each property of <paramref name="fields"/> to <paramref name="query"/>: a string as it is, a number or
    /// boolean as its JSON text, each item of an array as a repeat of the name, an object as its JSON text; null adds
    /// nothing.
    /// </summary>
    private static bool TryAppendQuery(JsonElement fields, ref string query, out string? error)
    {
        try
        {
            return TryAppendQueryCore(fields, ref query, out error);
        }
        catch (InvalidOperationException)
        {
            error = "`data` has a property name that is not valid Unicode text (a lone surrogate).";
            return false;
        }
    }

    private static bool TryAppendQueryCore(JsonElement fields, ref string query, out string? error)
    {
        var added = new StringBuilder(query);
        foreach (var field in fields.EnumerateObject())
        {
            var values = field.Value.ValueKind == JsonValueKind.Array ? field.Value.EnumerateArray().ToArray() : [field.Value];
            foreach (var value in values)
            {
                string text;
                if (value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                if (value.ValueKind == JsonValueKind.String)
                {
                    if (!TryGetText(value, out text))
                    {
                        error = $"`data.{Clip(field.Name)}` is not valid Unicode text (it has a lone surrogate).";
                        return false;
                    }
                }
                else
                {
                    text = value.GetRawText();
                }

                added.Append(added.Length == 0 ? '?' : '&').Append(Uri.EscapeDataString(field.Name)).Append('=').Append(Uri.EscapeDataString(text));
            }
        }

        query = added.ToString();
        error = null;
        return true;
    }

    private static bool TryGetText(JsonElement value, out string text)
    {
        try
        {
            text = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            text = string.Empty;
            return false;
        }
    }

    private static string? Check(JsonElement envelope, out string? method, out string? url, out Dictionary<string, string>? headers, out JsonElement? data)
    {
        method = null;
        url = null;
        headers = null;
        data = null;
        try
        {
            return CheckText(envelope, ref method, ref url, ref headers, ref data);
        }
        catch (InvalidOperationException)
        {
            // JsonElement.GetString() refuses text with a lone surrogate: JSON can carry it, a .NET string cannot.
            return "The request envelope has text that is not valid Unicode (a lone surrogate in `url`, `method`, `headers` or a string `data`).";
        }
    }

    private static string? CheckText(JsonElement envelope, ref string? method, ref string? url, ref Dictionary<string, string>? headers, ref JsonElement? data)
    {
        if (envelope.ValueKind != JsonValueKind.Object)
        {
            return $"The request envelope must be a JSON object such as {{\"method\":\"POST\",\"url\":\"/joinFunRoom\",\"data\":{{}}}}; got {Describe(envelope.ValueKind)}.";
        }

        method = "GET";
        if (envelope.TryGetProperty("method", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            if (m.ValueKind != JsonValueKind.String)
            {
                return $"`method` must be a string; got {Describe(m.ValueKind)}.";
            }

            method = m.GetString()!.ToUpperInvariant();
            if (Array.IndexOf(Methods, method) < 0)
            {
                return $"`method` must be one of GET, POST, PUT, PATCH or DELETE; got '{Clip(m.GetString()!)}'.";
            }
        }

        if (!envelope.TryGetProperty("url", out var u) || u.ValueKind == JsonValueKind.Null)
        {
            return "`url` is required: a path on this server such as /joinFunRoom, optionally with a query string.";
        }

        if (u.ValueKind != JsonValueKind.String)
        {
            return $"`url` must be a string; got {Describe(u.ValueKind)}.";
        }

        url = u.GetString()!;
        var hash = url.IndexOf('#');
        if (hash >= 0)
        {
            url = url[..hash];
        }

        if (url.Length == 0 || url[0] != '/' || url.StartsWith("//", StringComparison.Ordinal) || url.Contains('\\'))
        {
            return $"`url` must be a path on this server starting with a single /, not '{Clip(url)}'.";
        }

        if (HasSpaceOrControl(url))
        {
            return $"`url` must not contain spaces or control characters: '{Clip(url)}'.";
        }

        if (envelope.TryGetProperty("headers", out var h) && h.ValueKind != JsonValueKind.Null)
        {
            if (h.ValueKind != JsonValueKind.Object)
            {
                return $"`headers` must be an object of strings; got {Describe(h.ValueKind)}.";
            }

            foreach (var header in h.EnumerateObject())
            {
                if (header.Value.ValueKind != JsonValueKind.String)
                {
                    return $"`headers` must be an object of strings; `{Clip(header.Name)}` is {Describe(header.Value.ValueKind)}.";
                }

                if (header.Name.Length == 0 || !header.Name.All(IsTokenChar))
                {
                    return $"`headers` has an invalid header name: '{Clip(header.Name)}' (letters, digits and !#$%&'*+-.^_`|~ only).";
                }

                var value = header.Value.GetString()!;
                if (value.Any(c => char.IsControl(c) && c != '\t'))
                {
                    return $"`headers` has a control character in the value of `{header.Name}`.";
                }

                // The envelope's own body decides the framing; a client's framing headers would contradict it.
                if (!header.Name.Equals("content-length", StringComparison.OrdinalIgnoreCase) && !header.Name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase))
                {
                    headers ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    headers[header.Name] = value;
                }
            }
        }

        if (envelope.TryGetProperty("data", out var d))
        {
            data = d;
        }

        return null;
    }

    private static bool HasSpaceOrControl(string url)
    {
        foreach (var c in url)
        {
            if (c == ' ' || char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    // RFC 9110 token characters: what a header name may be made of.
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string Clip(string value) => value.Length <= 80 ? value : value[..(char.IsHighSurrogate(value[79]) ? 79 : 80)] + "…";
}
