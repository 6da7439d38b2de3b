using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// Parameters merged from route values, body and query string, as Sails' <c>req.param()</c> sees them.
/// Values are JSON: strings from the route, query and forms, any JSON from a JSON body.
/// </summary>
public sealed class RequestParameters
{
    private readonly Dictionary<string, JsonElement> _values;

    private RequestParameters(Dictionary<string, JsonElement> values)
    {
        _values = values;
    }

    internal static async Task<RequestParameters> ReadAsync(HttpContext context)
    {
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var request = context.Request;

        // Lowest precedence first; later sources overwrite.
        foreach (var (name, value) in request.Query)
        {
            values[name] = Strings(value);
        }

        var json = IsJson(request.ContentType);
        if (!json && request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(context.RequestAborted);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException && !context.RequestAborted.IsCancellationRequested)
            {
                // The form reader's own words ("Missing content-type boundary.", a limit of FormOptions, a cut-off part).
                throw new BadParameterException("body", $"The form body cannot be read: {ex.Message}");
            }

            foreach (var (name, value) in form)
            {
                values[name.EndsWith("[]", StringComparison.Ordinal) ? name[..^2] : name] = Strings(value);
            }
        }
        else if (json || request.HasJsonContentType())
        {
            var body = context.Features.Get<ISocketRequestFeature>() is SocketRequestFeature { JsonBody: { } parsed }
                ? parsed
                : await ReadJsonBodyAsync(context);
            if (body.ValueKind == JsonValueKind.Object)
            {
                try
                {
                    foreach (var property in body.EnumerateObject())
                    {
                        values[property.Name] = property.Value;
                    }
                }
                catch (InvalidOperationException)
                {
                    // A name JSON can carry but .NET text cannot (an escaped lone surrogate, \ud800).
                    throw new BadParameterException("body", "A property name of the body is not valid Unicode text (it has a lone surrogate).");
                }
            }
        }

        foreach (var (name, value) in request.RouteValues)
        {
            if (value is string text)
            {
                values[name] = JsonSerializer.SerializeToElement(text);
            }
        }

        return new RequestParameters(values);
    }

    // The content types of nearly every JSON body (a socket request's JSON body is sent as the first), known without
    // parsing the header as HasFormContentType and HasJsonContentType do; anything else is left to them.
    private static bool IsJson(string? contentType)
        => contentType is VirtualRequest.JsonContentType or "application/json";

    private static async Task<JsonElement> ReadJsonBodyAsync(HttpContext context)
    {
        // Buffered and rewound, so that the endpoint can still read the body itself.
        var request = context.Request;
        request.EnableBuffering();
        try
        {
            return await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException ex)
        {
            throw new BadParameterException("body", $"The request body is not valid JSON: {ex.Message}");
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    /// <summary>True when the parameter is present and not JSON null.</summary>
    public bool Has(string name) => _values.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>The raw JSON value, or null when absent.</summary>
    public JsonElement? Get(string name) => _values.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>A string parameter (numbers and booleans are taken as their text); null when absent.</summary>
    public string? GetString(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => Text(v, name),
        { ValueKind: JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False } v => v.GetRawText(),
        { ValueKind: JsonValueKind.Array } v when v.GetArrayLength() == 1 => GetStringFrom(v[0], name),
        var v => throw new BadParameterException(name, $"`{name}` must be a string, not {v.Value.ValueKind.ToString().ToLowerInvariant()}."),
    };

    /// <summary>A string or a list of strings; null when absent.</summary>
    public IReadOnlyList<string>? GetStringList(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } v => [.. v.EnumerateArray().Select(item => GetStringFrom(item, name))],
        _ => [GetString(name)!],
    };

    /// <summary>A boolean (JSON true/false or the strings "true"/"false"); null when absent.</summary>
    public bool? GetBool(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { ValueKind: JsonValueKind.String } v when bool.TryParse(Text(v, name), out var parsed) => parsed,
        _ => throw new BadParameterException(name, $"`{name}` must be true or false."),
    };

    /// <summary>An integer (JSON number or its text); null when absent.</summary>
    public int? GetInt(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out var number) => number,
        { ValueKind: JsonValueKind.String } v when int.TryParse(Text(v, name), out var number) => number,
        _ => throw new BadParameterException(name, $"`{name}` must be an integer."),
    };

    private static string GetStringFrom(JsonElement item, string name) => item.ValueKind == JsonValueKind.String
        ? Text(item, name)
        : throw new BadParameterException(name, $"`{name}` must be a string or a list of strings.");

    private static string Text(JsonElement value, string name)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // JSON can carry a lone surrogate (\ud800); a .NET string made of it would not be valid text.
            throw new BadParameterException(name, $"`{name}` is not valid Unicode text (it has a lone surrogate).");
        }
    }

    private static JsonElement Strings(Microsoft.Extensions.Primitives.StringValues value)
        => value.Count == 1 ? JsonSerializer.SerializeToElement(value[0]) : JsonSerializer.SerializeToElement(value.ToArray());
}
