using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// Thousands of malformed <c>Request</c> envelopes, written as raw JSON so that nothing the real client would
/// refuse to send is left out (lone surrogates, control characters, 9,000-character paths, wrong types,
/// nesting): every one answers a 4xx envelope, never a hub error or a 5xx, the socket stays up and its
/// membership is unchanged.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Envelopes = 2000;

    /// <summary>SignalR's default receive limit is 32 KB; stay under it so our code, not SignalR, answers.</summary>
    private const int MaxFrameBytes = 30 * 1024;

    private static readonly string[] Odd =
    [
        "", "\u0001", "\u007f", "\t", "\r\n", "\0", "a\u0000b", "\ud800", "\udfff", "x\udc00y", "\ud83d", "été", "😀", "\u202e", "\ufeff",
        "/../", "%2F", "%00", "%ZZ", "%", "\\", "//", "?", "#", " ", "\u2028", new string('x', 9000), new string('y', 3000) + "\u0001",
    ];

    private static readonly string[] Urls =
    [
        "/../../etc/passwd", "/sockets/negotiate", "/sockets/negotiate?negotiateVersion=1", "/sockets", "/sockets?id=x", "//evil.example/x",
        "/%2F%2Fevil.example", "/a%2Fb", "/%00", "/%ZZ", "/joinFunRoom?roomName=%00", "/\\evil",
        "/joinFunRoom/../rooms", "/./joinFunRoom", "/joinFunRoom;x", "http://evil.example/", "javascript:alert(1)", "/no/such/route",
    ];

    private static readonly string[] Routes = ["/joinFunRoom", "/leaveFunRoom", "/broadcastFunRoom", "/funRoomSubscribers", "/kickFromFunRoom", "/rooms/leaveAll", "/rooms"];

    /// <summary>The admin routes: with the admin key they validate their parameters, without it they answer 403 before.</summary>
    private static readonly string[] AdminRoutes = ["/kickFromFunRoom", "/rooms/addMembers", "/rooms/removeMembers", "/rooms/leaveAll"];

    /// <summary>Query parameters each GET route refuses (a room name or socket id no rule allows, a limit out of range).</summary>
    private static readonly (string Route, string[] BadQueries)[] GetRoutes =
    [
        ("/funRoomSubscribers", ["roomName=", "roomName=%00", "roomName=%01x", "roomName=%7F", "roomName=a%0D%0Ab", "roomName=" + new string('r', 300), "x=1"]),
        ("/socketRooms", ["socketId=", "socketId=%00", "socketId=no-such-socket", "socketId=%01", "socketId=" + new string('s', 600)]),
        ("/rooms", ["limit=0", "limit=-1", "limit=many", "limit=99999999999", "limit=1.5", "limit=100000"]),
    ];

    /// <summary>Set to repeat a run: its seed is printed first thing (and in the failure message).</summary>
    private const string SeedVariable = "ROOMS_FUZZ_SEED";

    private static readonly string[] HeaderNames = ["x-a", "content-type", "content-length", "transfer-encoding", "host", "x-admin-key", "cookie", "accept", "traceparent", "expect", "origin", "connection"];

    private static readonly string[] ContentTypes = ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json", "text/plain", "application/json; charset=utf-7", "", "\u0001", "application/\ud800"];

    private FrontEndServer _server = null!;

    // A server of its own whose per-socket rate limit the fuzzing cannot reach, so every envelope meets the parser.
    public async Task InitializeAsync() => _server = await FrontEndServer.StartAsync(
        "fuzz-" + Guid.NewGuid().ToString("N")[..8],
        settings: new Dictionary<string, string?> { ["Rooms:Limits:RequestsPerSecondPerSocket"] = "1000000" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task EveryMalformedEnvelopeAnswersA4xxEnvelopeAndLeavesTheSocketAsItWas()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), out var fixedSeed) ? fixedSeed : Environment.TickCount;
        output.WriteLine($"seed {seed} ({SeedVariable}={seed} repeats this run)");
        var random = new Random(seed);
        using var socket = await RawSocket.ConnectAsync(_server.BaseAddress);
        var id = (await socket.RequestAsync(new { url = "/socketId" })).GetString()!;
        var statuses = new SortedDictionary<int, int>();
        var byKind = new SortedDictionary<string, SortedDictionary<int, int>>(StringComparer.Ordinal);
        var failures = new List<string>();
        var tried = 0;

        while (tried < Envelopes)
        {
            var (kind, envelope) = Envelope(random);
            if (Encoding.UTF8.GetByteCount(envelope) > MaxFrameBytes)
            {
                continue;
            }

            tried++;
            var completion = await socket.InvokeRawAsync("Request", "[" + envelope + "]");
            if (completion.TryGetProperty("error", out var error))
            {
                failures.Add($"hub error '{error.GetString()}' for {Clip(envelope)}");
                continue;
            }

            var result = completion.GetProperty("result");
            var status = result.GetProperty("statusCode").GetInt32();
            var body = result.TryGetProperty("body", out var b) ? b : default;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var kindStatuses = byKind.TryGetValue(kind, out var k) ? k : byKind[kind] = [];
            kindStatuses[status] = kindStatuses.GetValueOrDefault(status) + 1;
            if (status is < 400 or >= 500)
            {
                failures.Add($"{status} {Clip(body.ValueKind == JsonValueKind.Undefined ? "" : body.GetRawText())} for {Clip(envelope)}");
            }
            else if (status is not (StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed) && Problem(body) is null)
            {
                // Only routing's answers (no such route, not that method) say what is wrong by their status alone.
                failures.Add($"{status} without a text naming the problem ({Clip(body.ValueKind == JsonValueKind.Undefined ? "no body" : body.GetRawText())}) for {Clip(envelope)}");
            }
        }

        var mix = string.Join("; ", byKind.Select(kv => $"{kv.Key} {string.Join(", ", kv.Value.Select(s => $"{s.Key}×{s.Value}"))}"));
        var summary = $"seed {seed}: {tried} malformed envelopes tried; rejected with a 4xx envelope {statuses.Where(s => s.Key is >= 400 and < 500).Sum(s => s.Value)} ({string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}); accepted (2xx) {statuses.Where(s => s.Key is >= 200 and < 300).Sum(s => s.Value)}; anything else (hub error, 5xx, no reason given) {failures.Count}; by kind: {mix}";
        output.WriteLine(summary);
        CiSummary.Write("fuzz", summary);
        Assert.True(failures.Count == 0, $"seed {seed}: {failures.Count} of {tried} envelopes were not answered with a 4xx envelope naming the problem:\n" + string.Join("\n", failures.Take(15)));

        // The validation behind the key and of the GET routes was reached, not only the gate in front of it.
        Assert.True(byKind.GetValueOrDefault("admin with key")?.GetValueOrDefault(StatusCodes.Status403Forbidden) is null or 0, $"seed {seed}: an admin route refused the admin key: {mix}");
        Assert.True(byKind.GetValueOrDefault("admin with key")?.GetValueOrDefault(StatusCodes.Status400BadRequest) > 0, $"seed {seed}: no admin route validated a parameter: {mix}");
        Assert.True(byKind.GetValueOrDefault("GET")?.GetValueOrDefault(StatusCodes.Status400BadRequest) > 0, $"seed {seed}: no GET route validated a parameter: {mix}");
        Assert.Equal(WebSocketState.Open, socket.State);
        Assert.Equal([id], (await socket.RequestAsync(new { url = "/socketRooms" })).EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task HubInvocationsSignalRRejectsFailThatInvocationOnlyAndTheSocketStaysUp()
    {
        using var socket = await RawSocket.ConnectAsync(_server.BaseAddress);
        var id = (await socket.RequestAsync(new { url = "/socketId" })).GetString()!;

        var unknown = await socket.InvokeRawAsync("NoSuchMethod", "[]");
        var noArguments = await socket.InvokeRawAsync("Request", "[]");
        var twoArguments = await socket.InvokeRawAsync("Request", """[{"url":"/socketId"},{"url":"/socketId"}]""");
        var number = await socket.InvokeRawAsync("Request", "[42]");

        Assert.True(unknown.TryGetProperty("error", out _));
        Assert.True(noArguments.TryGetProperty("error", out _));
        Assert.True(twoArguments.TryGetProperty("error", out _));
        Assert.Equal(400, number.GetProperty("result").GetProperty("statusCode").GetInt32());
        Assert.Equal(WebSocketState.Open, socket.State);
        Assert.Equal([id], (await socket.RequestAsync(new { url = "/socketRooms" })).EnumerateArray().Select(e => e.GetString()));
    }

    /// <summary>
    /// SignalR's JSON protocol reads a frame at most 64 levels deep; a deeper one is refused before our code
    /// runs, by closing that connection (as a frame over the 32 KB receive limit is). Nobody else notices.
    /// </summary>
    [Fact]
    public async Task AFrameNestedDeeperThanSignalRReadsClosesThatConnectionOnly()
    {
        await using var other = await _server.ConnectAsync();
        using var socket = await RawSocket.ConnectAsync(_server.BaseAddress);
        await socket.RequestAsync(new { url = "/socketId" });

        await Assert.ThrowsAsync<WebSocketException>(() => socket.InvokeRawAsync("Request", "[{\"url\":\"/joinFunRoom\",\"data\":" + new string('[', 100) + new string(']', 100) + "}]"));

        Assert.Equal(200, (await other.RequestAsync("GET", "/socketId")).StatusCode);
    }

    /// <summary>What an answer says is wrong: its <c>error</c>, or its text; null when it says nothing.</summary>
    private static string? Problem(JsonElement body) => body.ValueKind switch
    {
        JsonValueKind.Object when body.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String && e.GetString() is { Length: > 0 } text => text,
        JsonValueKind.String when body.GetString() is { Length: > 0 } text => text,
        _ => null,
    };

    /// <summary>A malformed envelope, and which kind it is: "GET" (a GET route's query), "admin with key", or "other".</summary>
    private static (string Kind, string Envelope) Envelope(Random random)
    {
        switch (random.Next(15))
        {
            case 12:
            case 13:
                var (route, queries) = Pick(random, GetRoutes);
                var headers = route == "/rooms" ? Object(("x-admin-key", Json(FrontEndServer.AdminKey))) : "{}";
                return ("GET", Object(("url", Json(route + "?" + Pick(random, queries))), ("method", Json("GET")), ("headers", headers)));
            case 14:
                return ("admin with key", Object(("url", Json(Pick(random, AdminRoutes))), ("method", Json("POST")), ("headers", Object(("x-admin-key", Json(FrontEndServer.AdminKey)))), ("data", BadRoomBody(random))));
            default:
                return ("other", OtherEnvelope(random));
        }
    }

    private static string OtherEnvelope(Random random)
    {
        switch (random.Next(12))
        {
            case 0:
                return Pick(random, ["null", "42", "\"/socketId\"", "[]", "true", "{}", "[{\"url\":\"/socketId\"}]"]);
            case 1:
                return Object(("url", Json("/" + new string('a', 9000 + random.Next(100)))));
            case 2:
                return Object(("url", Json(Pick(random, Urls))), ("method", Json(Pick(random, ["GET", "post", "DELETE"]))));
            case 3:
                return Object(("url", Json(Pick(random, Routes) + Pick(random, Odd))));
            case 4:
                return Object(("url", Json(Pick(random, Odd))));
            case 5:
                return Object(("url", Json(Pick(random, Routes))), ("method", Pick(random, [Json(Pick(random, Odd)), "5", "{}", "[]", "true", Json("FETCH")])));
            case 6:
                return Object(("url", Pick(random, ["5", "{}", "[\"/socketId\"]", "false"])));
            case 7:
                return Object(("url", Json(Pick(random, Routes))), ("method", Json("POST")), ("headers", Pick(random, ["\"x\"", "[]", "5", "{\"a\":1}", "{\"a\":{}}", "{\"a\":null}", "{\"a\":[\"b\"]}"])));
            case 8:
                return Object(("url", Json(Pick(random, Routes))), ("method", Json("POST")), ("headers", Object((Pick(random, random.Next(2) == 0 ? Odd : HeaderNames), Json(Pick(random, Odd))))), ("data", BadRoomBody(random)));
            case 9:
                return Object(("url", Json(Pick(random, Routes))), ("method", Json("POST")), ("headers", Object(("content-type", Json(Pick(random, ContentTypes))))), ("data", random.Next(2) == 0 ? Json(Pick(random, Odd) + "=" + Pick(random, Odd)) : BadRoomBody(random)));
            case 10:
                return Object(("url", Json(Pick(random, Routes) + "?roomName=" + Pick(random, ["", "%01", "%00", "%7F", "%0D%0A", new string('r', 300)]))), ("method", Json("POST")));
            default:
                return Object(("url", Json(Pick(random, Routes))), ("method", Json("POST")), ("data", BadRoomBody(random)));
        }
    }

    /// <summary>A body whose <c>roomName</c> no route accepts, with other odd parameters next to it.</summary>
    private static string BadRoomBody(Random random)
    {
        var room = random.Next(9) switch
        {
            0 => Json(""),
            1 => Json(new string('r', 257 + random.Next(5000))),
            2 => Json("bad" + Pick(random, ["\u0001", "\u007f", "\0", "\n"]) + "name"),
            3 => Json(Pick(random, ["\ud800", "a\udfffb", "\ud83d"])),
            4 => Pick(random, ["{}", "{\"a\":1}", "[1]", "[[\"a\"]]", "[]", "[null]", "[{}]", "[\"\",\"a\"]"]),
            5 => Nested(random.Next(2, 40)),
            6 => "[" + string.Join(",", Enumerable.Repeat(Json("\ud800"), random.Next(1, 50))) + "]",
            7 => Json(new string('z', 20_000)),
            _ => Json("ok\ud800"),
        };
        return Object(
            ("roomName", room),
            ("sourceRoom", room),
            ("destRooms", room),
            ("socketId", Pick(random, [Json(Pick(random, Odd)), "5", "{}"])),
            ("eventName", Json(Pick(random, Odd))),
            ("limit", Pick(random, ["0", "-1", "1e9", "\"many\"", "99999999999", "{}"])),
            ("exceptSelf", Pick(random, ["\"maybe\"", "2", "[]"])),
            ("data", Pick(random, [Json(Pick(random, Odd)), Nested(random.Next(2, 40)), "1e308", "-0", "{\"a\":\"\\ud800\"}"])));
    }

    private static string Nested(int depth) => new string('[', depth) + "\"deep\"" + new string(']', depth);

    private static string Object(params (string Name, string Json)[] properties)
        => "{" + string.Join(",", properties.Select(p => Json(p.Name) + ":" + p.Json)) + "}";

    /// <summary>A JSON string literal for any UTF-16 text, lone surrogates included (as \u escapes).</summary>
    private static string Json(string text)
    {
        var json = new StringBuilder("\"");
        foreach (var c in text)
        {
            if (c is < ' ' or > '~' or '"' or '\\')
            {
                json.Append("\\u").Append(((int)c).ToString("x4"));
            }
            else
            {
                json.Append(c);
            }
        }

        return json.Append('"').ToString();
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static string Clip(string text) => text.Length <= 200 ? text : text[..200] + $"…({text.Length} chars)";
}
