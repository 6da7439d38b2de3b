using System.Text.Json;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>Presence over the example routes on one embedded front end (docs/presence.md): the state, the diffs, the bad input.</summary>
[Collection(FrontEndCollection.Name)]
public sealed class PresenceTests(FrontEndFixture fixture)
{
    [Fact]
    public async Task ATrackIsListedSentAsStateToTheTrackerAndAsADiffToEveryMember()
    {
        await using var watcher = await fixture.Server.ConnectAsync();
        await using var tracker = await fixture.Server.ConnectAsync();
        var room = Unique.Room();
        watcher.Listen("presence_diff");
        tracker.Listen("presence_state");
        tracker.Listen("presence_diff");
        await watcher.OkAsync("POST", "/joinFunRoom", new { roomName = room });

        await tracker.OkAsync("POST", "/presence/track", new { roomName = room, key = "alice", meta = new { status = "online" } });

        var state = await tracker.WaitForAsync("presence_state", p => p.GetProperty("room").GetString() == room);
        var mine = state.GetProperty("state").GetProperty("alice").GetProperty("metas")[0];
        Assert.Equal(tracker.Id, mine.GetProperty("ref").GetString());
        Assert.Equal("online", mine.GetProperty("status").GetString());

        var diff = await watcher.WaitForAsync("presence_diff", p => p.GetProperty("room").GetString() == room);
        var joined = diff.GetProperty("joins").GetProperty("alice").GetProperty("metas")[0];
        Assert.Equal(tracker.Id, joined.GetProperty("ref").GetString());
        Assert.Empty(diff.GetProperty("leaves").EnumerateObject());

        var list = await tracker.RequestAsync("GET", "/presence/list", new { roomName = room });
        Assert.Equal(200, list.StatusCode);
        Assert.Equal(tracker.Id, list.Body.GetProperty("alice").GetProperty("metas")[0].GetProperty("ref").GetString());

        // Tracking joined the room: the tracker is a member.
        var subscribers = await watcher.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room });
        Assert.Contains(tracker.Id, subscribers.Strings);
    }

    [Fact]
    public async Task UntrackLeavesTheKeyButKeepsTheMembershipAndLeavingTheRoomUntracks()
    {
        await using var watcher = await fixture.Server.ConnectAsync();
        await using var tracker = await fixture.Server.ConnectAsync();
        var room = Unique.Room();
        watcher.Listen("presence_diff");
        await watcher.OkAsync("POST", "/joinFunRoom", new { roomName = room });
        await tracker.OkAsync("POST", "/presence/track", new { roomName = room, key = "bob" });
        await watcher.WaitForAsync("presence_diff", p => p.GetProperty("joins").TryGetProperty("bob", out _));

        await tracker.OkAsync("POST", "/presence/untrack", new { roomName = room });
        await watcher.WaitForAsync("presence_diff", p => p.GetProperty("leaves").TryGetProperty("bob", out _));
        var subscribers = await watcher.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room });
        Assert.Contains(tracker.Id, subscribers.Strings);
        Assert.Empty((await watcher.RequestAsync("GET", "/presence/list", new { roomName = room })).Body.EnumerateObject());

        await tracker.OkAsync("POST", "/presence/track", new { roomName = room, key = "bob" });
        await watcher.WaitForAsync("presence_diff", p => p.GetProperty("joins").TryGetProperty("bob", out _) && watcher.ReceivedOf("presence_diff").Count >= 3);
        await tracker.OkAsync("POST", "/leaveFunRoom", new { roomName = room });
        await watcher.WaitForAsync("presence_diff", p => p.GetProperty("leaves").TryGetProperty("bob", out _) && watcher.ReceivedOf("presence_diff").Count >= 4);
        Assert.Equal(4, watcher.ReceivedOf("presence_diff").Count);
    }

    [Fact]
    public async Task ADisconnectLeavesOnceAndAMetaUpdateIsALeaveAndAJoinOfTheSameRef()
    {
        await using var watcher = await fixture.Server.ConnectAsync();
        var tracker = await fixture.Server.ConnectAsync();
        var room = Unique.Room();
        watcher.Listen("presence_diff");
        await watcher.OkAsync("POST", "/joinFunRoom", new { roomName = room });
        await tracker.OkAsync("POST", "/presence/track", new { roomName = room, key = "carol", meta = new { typing = false } });
        await watcher.WaitForAsync("presence_diff", p => p.GetProperty("joins").TryGetProperty("carol", out _));

        await tracker.OkAsync("POST", "/presence/update", new { roomName = room, meta = new { typing = true } });
        var update = await watcher.WaitForAsync("presence_diff", p => p.GetProperty("leaves").TryGetProperty("carol", out _));
        Assert.False(update.GetProperty("leaves").GetProperty("carol").GetProperty("metas")[0].GetProperty("typing").GetBoolean());
        Assert.True(update.GetProperty("joins").GetProperty("carol").GetProperty("metas")[0].GetProperty("typing").GetBoolean());

        var id = tracker.Id;
        await tracker.DisposeAsync();
        var gone = await watcher.WaitForAsync("presence_diff", p => p.GetProperty("leaves").TryGetProperty("carol", out _) && !p.GetProperty("joins").TryGetProperty("carol", out _));
        Assert.Equal(id, gone.GetProperty("leaves").GetProperty("carol").GetProperty("metas")[0].GetProperty("ref").GetString());

        await watcher.OkAsync("POST", "/broadcastFunRoom", new { roomName = watcher.Id, eventName = "marker", data = "end" });
        await watcher.WaitForMarkerAsync("end");
        Assert.Equal(3, watcher.ReceivedOf("presence_diff").Count);
    }

    [Fact]
    public async Task BadInputIsRefusedNamingWhatWasWrongAndChangesNothing()
    {
        await using var socket = await fixture.Server.ConnectAsync();
        var room = Unique.Room();

        var missing = await socket.RequestAsync("POST", "/presence/track", new { key = "k" });
        Assert.Equal(400, missing.StatusCode);
        Assert.Contains("roomName", missing.Body.GetRawText());

        var empty = await socket.RequestAsync("POST", "/presence/track", new { roomName = "" });
        Assert.Equal(400, empty.StatusCode);
        Assert.Contains("roomName", empty.Body.GetRawText());

        var big = await socket.RequestAsync("POST", "/presence/track", new { roomName = room, meta = new { text = new string('x', 5000) } });
        Assert.Equal(400, big.StatusCode);
        Assert.Contains("Rooms:Presence:MaxMetaBytes", big.Body.GetRawText());

        var notObject = await socket.RequestAsync("POST", "/presence/track", new { roomName = room, meta = 42 });
        Assert.Equal(400, notObject.StatusCode);
        Assert.Contains("JSON object", notObject.Body.GetRawText());

        var withRef = await socket.RequestAsync("POST", "/presence/track", new { roomName = room, meta = new { @ref = "x" } });
        Assert.Equal(400, withRef.StatusCode);
        Assert.Contains("'ref'", withRef.Body.GetRawText());

        var notTracked = await socket.RequestAsync("POST", "/presence/update", new { roomName = room, meta = new { a = 1 } });
        Assert.Equal(404, notTracked.StatusCode);

        var list = await socket.RequestAsync("GET", "/presence/list", new { roomName = "" });
        Assert.Equal(400, list.StatusCode);

        // Nothing of it happened: not in the room, nobody listed.
        var rooms = await socket.RequestAsync("GET", "/socketRooms");
        Assert.DoesNotContain(room, rooms.Strings);
        Assert.Empty((await socket.RequestAsync("GET", "/presence/list", new { roomName = room })).Body.EnumerateObject());
    }

    [Fact]
    public async Task ListOverPlainHttpAnswersTheStateWithItsVersion()
    {
        await using var tracker = await fixture.Server.ConnectAsync();
        var room = Unique.Room();
        await tracker.OkAsync("POST", "/presence/track", new { roomName = room, key = "dave", meta = new { device = "phone" } });

        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        using var response = await http.GetAsync($"/presence/list?roomName={Uri.EscapeDataString(room)}");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Matches("^[0-9a-f]+\\.[0-9]+$", response.Headers.GetValues("Rooms-Presence-Version").Single());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("phone", body.RootElement.GetProperty("dave").GetProperty("metas")[0].GetProperty("device").GetString());

        var overHttp = await http.PostAsync("/presence/track", JsonContent(new { roomName = room }));
        Assert.Equal(400, (int)overHttp.StatusCode);
    }

    [Fact]
    public async Task TheTrackersStateLeavesWithTheAnswerInOneWebSocketMessageStateFirst()
    {
        using var raw = await RawSocket.ConnectAsync(fixture.Server.BaseAddress);
        var room = Unique.Room();

        await raw.SendRawAsync(Invocation("track", room, "erin"));

        string[] sent = [];
        for (var frames = 0; frames < 10 && !sent.Any(IsAnswer); frames++)
        {
            sent = await raw.ReceiveWebSocketMessageAsync();
        }

        var answer = Array.FindIndex(sent, IsAnswer);
        Assert.True(answer >= 1, $"The answer is not preceded by the state in its WebSocket message: [{string.Join(", ", sent)}]");
        using var state = JsonDocument.Parse(sent[answer - 1]);
        Assert.Equal("presence_state", state.RootElement.GetProperty("target").GetString());
        Assert.Equal(room, state.RootElement.GetProperty("arguments")[0].GetProperty("room").GetString());

        static bool IsAnswer(string message)
        {
            using var parsed = JsonDocument.Parse(message);
            return parsed.RootElement.GetProperty("type").GetInt32() == 3 && parsed.RootElement.GetProperty("invocationId").GetString() == "track";
        }
    }

    [Fact]
    public async Task ATrackSentWithoutAnInvocationIdGetsItsStateAtOnceNotWithTheNextMessage()
    {
        // No answer follows a non-blocking invocation to carry the held state out: it is flushed by itself, not left
        // for the next message the connection writes. There is none: the diff of its own join is not sent to it (its
        // state has it), so a state left for the next message never comes.
        await using var server = await FrontEndServer.StartAsync("presence-" + Guid.NewGuid().ToString("N")[..8], settings: new Dictionary<string, string?>
        {
            ["Rooms:Presence:DiffDelay"] = "00:00:01",
        });
        using var raw = await RawSocket.ConnectAsync(server.BaseAddress);
        var room = Unique.Room();

        await raw.SendRawAsync(Invocation(invocationId: null, room, "frank"));

        string[] sent = [];
        for (var frames = 0; frames < 10 && !sent.Any(m => m.Contains("\"presence_state\"", StringComparison.Ordinal)); frames++)
        {
            sent = await raw.ReceiveWebSocketMessageAsync();
        }

        var state = Assert.Single(sent, m => m.Contains("\"presence_state\"", StringComparison.Ordinal));
        Assert.DoesNotContain(sent, m => m.Contains("\"presence_diff\"", StringComparison.Ordinal));
        using var parsed = JsonDocument.Parse(state);
        Assert.Equal(room, parsed.RootElement.GetProperty("arguments")[0].GetProperty("room").GetString());
    }

    [Fact]
    public async Task ATrackerIsNotSentTheDiffItsStateAlreadyHoldsButIsSentEveryChangeAfterIt()
    {
        // Two tracks inside one diff's delay (1 s): the first tracker's state lacks the second's join, so it gets the
        // diff (whether the two joins share one or come in two); the second's state has everything pending, so the
        // diff of its own join is not sent to it. A change after their states (an untrack) reaches both. A socket's
        // diffs arrive in order, so once the last diff is in, no earlier one is still on its way.
        await using var server = await FrontEndServer.StartAsync("presence-" + Guid.NewGuid().ToString("N")[..8], settings: new Dictionary<string, string?>
        {
            ["Rooms:Presence:DiffDelay"] = "00:00:01",
        });
        await using var watcher = await server.ConnectAsync();
        await using var first = await server.ConnectAsync();
        await using var second = await server.ConnectAsync();
        var room = Unique.Room();
        foreach (var socket in new[] { watcher, first, second })
        {
            socket.Listen("presence_diff");
        }

        await watcher.OkAsync("POST", "/joinFunRoom", new { roomName = room });
        await first.OkAsync("POST", "/presence/track", new { roomName = room, key = "first" });
        await second.OkAsync("POST", "/presence/track", new { roomName = room, key = "second" });
        await watcher.WaitForAsync("presence_diff", p => p.GetProperty("joins").TryGetProperty("second", out _));
        await first.OkAsync("POST", "/presence/untrack", new { roomName = room });

        static bool LeftFirst(JsonElement diff) => diff.GetProperty("leaves").TryGetProperty("first", out _);
        await watcher.WaitForAsync("presence_diff", LeftFirst);
        await first.WaitForAsync("presence_diff", LeftFirst);
        await second.WaitForAsync("presence_diff", LeftFirst);

        Assert.True(LeftFirst(Assert.Single(second.ReceivedOf("presence_diff"))), "the second tracker is sent only the change after its state");
        var firstDiffs = first.ReceivedOf("presence_diff");
        Assert.Equal(2, firstDiffs.Count);
        Assert.True(firstDiffs[0].GetProperty("joins").TryGetProperty("second", out _), "the first tracker is sent the join that came after its state");
        Assert.True(LeftFirst(firstDiffs[1]));
        var watched = watcher.ReceivedOf("presence_diff");
        Assert.Single(watched, d => d.GetProperty("joins").TryGetProperty("first", out _));
        Assert.Single(watched, d => d.GetProperty("joins").TryGetProperty("second", out _));
    }

    /// <summary>A hub invocation of <c>Request</c> that tracks the socket, as JSON text; without an id when <paramref name="invocationId"/> is null.</summary>
    private static string Invocation(string? invocationId, string room, string key)
    {
        var request = new { method = "POST", url = "/presence/track", data = new { roomName = room, key } };
        return invocationId is null
            ? JsonSerializer.Serialize(new { type = 1, target = "Request", arguments = new[] { request } })
            : JsonSerializer.Serialize(new { type = 1, invocationId, target = "Request", arguments = new[] { request } });
    }

    private static StringContent JsonContent(object value) => new(JsonSerializer.Serialize(value), System.Text.Encoding.UTF8, "application/json");
}
