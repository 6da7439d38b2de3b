using System.Net.Http.Json;
using System.Text.Json;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// Plain HTTP requests to servers of a cluster that is recovering from a fault: each is answered within a
/// time limit or counts as unanswered, so a check that polls never waits out Orleans' 30 s response timeout.
/// </summary>
public static class BoundedHttp
{
    private static readonly HttpClient Client = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };

    public static Task<Answer> GetAsync(Uri server, string pathAndQuery, TimeSpan within, IReadOnlyDictionary<string, string>? headers = null)
        => SendAsync(HttpMethod.Get, server, pathAndQuery, null, within, headers);

    public static Task<Answer> PostAsync(Uri server, string path, object body, TimeSpan within, IReadOnlyDictionary<string, string>? headers = null)
        => SendAsync(HttpMethod.Post, server, path, body, within, headers);

    private static async Task<Answer> SendAsync(HttpMethod method, Uri server, string path, object? body, TimeSpan within, IReadOnlyDictionary<string, string>? headers)
    {
        var what = $"{method} {server}{path.TrimStart('/')}";
        using var request = new HttpRequestMessage(method, new Uri(server, path));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(name, value);
        }

        using var deadline = new CancellationTokenSource(within);
        try
        {
            using var response = await Client.SendAsync(request, deadline.Token);
            var text = await response.Content.ReadAsStringAsync(deadline.Token);
            var json = response.Content.Headers.ContentType?.MediaType == "application/json" && text.Length > 0
                ? JsonSerializer.Deserialize<JsonElement>(text)
                : JsonSerializer.SerializeToElement(text);
            return new Answer(what, (int)response.StatusCode, json, null);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return new Answer(what, null, default, $"no answer within {within.TotalSeconds:F0} s");
        }
        catch (HttpRequestException ex)
        {
            return new Answer(what, null, default, ex.Message);
        }
    }

    /// <param name="What">The request, for messages.</param>
    /// <param name="Status">The status code; null when there was no answer (see <paramref name="Failure"/>).</param>
    /// <param name="Body">The JSON body, or the text as a JSON string.</param>
    public sealed record Answer(string What, int? Status, JsonElement Body, string? Failure)
    {
        public bool IsOk => Status == 200;

        /// <summary>The body as a list of strings (subscribers, socket rooms).</summary>
        public string[] Strings() => [.. Body.EnumerateArray().Select(e => e.GetString()!)];

        public override string ToString() => Status is { } status ? $"{What} answered {status} {Body.GetRawText()}" : $"{What}: {Failure}";
    }
}
