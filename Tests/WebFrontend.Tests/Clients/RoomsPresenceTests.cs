using System.Collections.Concurrent;
using Orleans.Rooms.Client;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests.Clients;

/// <summary>The .NET client's presence view against a real front end: synced, tracked, updated, untracked, each change raised once.</summary>
[Collection(ClientsCollection.Name)]
public sealed class RoomsPresenceTests(ClientsFixture fixture)
{
    [Fact]
    public async Task AWatcherAndATrackerSeeEachChangeOnce()
    {
        await using var watcher = await RoomsClient.ConnectAsync(fixture.Server.BaseAddress);
        await using var tracker = await RoomsClient.ConnectAsync(fixture.Server.BaseAddress);
        var room = Unique.Room();
        (await watcher.PostAsync("/joinFunRoom", new { roomName = room })).EnsureSuccess();

        var seen = new ConcurrentQueue<string>();
        var watched = watcher.Presence(room);
        watched.Joined += (key, before, joined) => seen.Enqueue($"+{key}:{joined[0].GetProperty("status").GetString()}{(before is null ? " (new)" : "")}");
        watched.Left += (key, after, left) => seen.Enqueue($"-{key}:{left[0].GetProperty("status").GetString()}{(after is null ? " (gone)" : "")}");
        Assert.Empty(await watched.SyncAsync());
        var mine = tracker.Presence(room);
        var trackerSynced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        mine.Synced += () => trackerSynced.TrySetResult();

        (await tracker.PostAsync("/presence/track", new { roomName = room, key = "zoe", meta = new { status = "online" } })).EnsureSuccess();
        await trackerSynced.Task.WaitAsync(TestSocket.Timeout);
        await Eventually.HoldsAsync(() => Task.FromResult(seen.Count == 1 && mine.List().Count == 1), "zoe's join seen by both");
        Assert.Equal(tracker.SocketId, mine.List()["zoe"][0].GetProperty("ref").GetString());

        (await tracker.PostAsync("/presence/update", new { roomName = room, meta = new { status = "away" } })).EnsureSuccess();
        await Eventually.HoldsAsync(() => Task.FromResult(seen.Count == 3), "the update as a leave and a join");
        (await tracker.PostAsync("/presence/untrack", new { roomName = room })).EnsureSuccess();
        await Eventually.HoldsAsync(() => Task.FromResult(seen.Count == 4), "the leave");

        Assert.Equal(["+zoe:online (new)", "-zoe:online", "+zoe:away", "-zoe:away (gone)"], seen.ToArray());
        Assert.Empty(watched.List());
        Assert.True(watched.IsSynced);
    }
}
