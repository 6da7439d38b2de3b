using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Orleans.Rooms.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.Cluster.Tests;

/// <summary>
/// The cluster shape end to end, as <c>scripts/cluster up</c> starts it: sockets on two front ends (Orleans
/// clients, separate processes) of two stand-alone silos on a real redis-server.
/// </summary>
public sealed class ScriptedClusterTests(ScriptedClusterFixture cluster, ITestOutputHelper output) : IClassFixture<ScriptedClusterFixture>
{
    /// <summary>A step of a round slower than this counts as failed: healthy ones take well under a second.</summary>
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(10);

    private static readonly Dictionary<string, string> AdminHeaders = new() { ["x-admin-key"] = ScriptedClusterFixture.AdminKey };

    private Uri First => cluster.FrontEnds[0];

    private Uri Second => cluster.FrontEnds[1];

    [Fact]
    public async Task SocketsOnBothFrontEndsJoinOneRoomAndEitherFrontEndListsBoth()
    {
        await using var onFirst = await ClusterSocket.ConnectAsync(First);
        await using var onSecond = await ClusterSocket.ConnectAsync(Second);
        var room = NewRoom();

        var joinedOnFirst = await onFirst.RequestAsync("POST", "/joinFunRoom", new { roomName = room });
        var joinedOnSecond = await onSecond.RequestAsync("POST", "/joinFunRoom", new { roomName = room });

        Assert.Equal($"Joined a fun room called {room}!", Ok(joinedOnFirst).Message);
        Assert.Equal($"Joined a fun room called {room}!", Ok(joinedOnSecond).Message);
        foreach (var frontEnd in cluster.FrontEnds)
        {
            using var http = ScriptedClusterFixture.Http(frontEnd);
            var subscribers = await http.GetFromJsonAsync<string[]>($"/funRoomSubscribers?roomName={room}");
            Assert.Equal(new[] { onFirst.Id, onSecond.Id }.Order(), subscribers!.Order());
        }
    }

    [Fact]
    public async Task ABroadcastFromTheSecondFrontEndReachesMembersOnBoth()
    {
        await using var onFirst = await ClusterSocket.ConnectAsync(First, "news");
        await using var onSecond = await ClusterSocket.ConnectAsync(Second, "news");
        var room = NewRoom();
        Ok(await onFirst.RequestAsync("POST", "/joinFunRoom", new { roomName = room }));
        Ok(await onSecond.RequestAsync("POST", "/joinFunRoom", new { roomName = room }));

        Ok(await onSecond.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "news", data = "hello" }));

        await onFirst.WaitForAsync("news", "hello");
        await onSecond.WaitForAsync("news", "hello");
    }

    [Fact]
    public async Task ABlastReachesEverySocketOnEveryFrontEnd()
    {
        var sockets = new List<ClusterSocket>();
        try
        {
            foreach (var frontEnd in new[] { First, First, Second, Second })
            {
                sockets.Add(await ClusterSocket.ConnectAsync(frontEnd));
            }

            var tag = Guid.NewGuid().ToString("N");
            Ok(await sockets[0].RequestAsync("POST", "/blast", new { data = tag }));

            await Task.WhenAll(sockets.Select(s => s.WaitForAsync("message", tag)));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AKickByIdFromTheFirstFrontEndStopsDeliveryToASocketOnTheSecond()
    {
        await using var watcherOnFirst = await ClusterSocket.ConnectAsync(First, "news");
        await using var kickedOnSecond = await ClusterSocket.ConnectAsync(Second, "news");
        var room = NewRoom();
        Ok(await watcherOnFirst.RequestAsync("POST", "/joinFunRoom", new { roomName = room }));
        Ok(await kickedOnSecond.RequestAsync("POST", "/joinFunRoom", new { roomName = room }));
        Ok(await watcherOnFirst.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "news", data = "before" }));
        await kickedOnSecond.WaitForAsync("news", "before");

        using var http = ScriptedClusterFixture.Http(First);
        var kick = await PostAsync(http, "/kickFromFunRoom", new { socketId = kickedOnSecond.Id, roomName = room }, AdminHeaders);
        Ok(await watcherOnFirst.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "news", data = "after" }));
        Ok(await watcherOnFirst.RequestAsync("POST", "/broadcastFunRoom", new { roomName = kickedOnSecond.Id, eventName = "marker", data = "end" }));

        Assert.Equal(HttpStatusCode.OK, kick.Status);
        Assert.Equal($"Kicked {kickedOnSecond.Id} from {room}!", kick.Body.GetProperty("message").GetString());
        await watcherOnFirst.WaitForAsync("news", "after");
        await kickedOnSecond.WaitForAsync("marker", "end");
        Assert.Equal(["before"], kickedOnSecond.Received("news").Select(p => p.GetString()));
    }

    [Fact]
    public async Task AKickOfASocketIdNoFrontEndHoldsIsNotFound()
    {
        using var http = ScriptedClusterFixture.Http(First);

        var kick = await PostAsync(http, "/kickFromFunRoom", new { socketId = "no-such-socket-" + Guid.NewGuid().ToString("N"), roomName = NewRoom() }, AdminHeaders);

        Assert.Equal(HttpStatusCode.NotFound, kick.Status);
    }

    [Fact]
    public async Task AnAddedSiloIsCountedWhileJoinBroadcastLeaveOnBothFrontEndsKeepsSucceeding()
    {
        var silosBefore = cluster.Silos;
        var failures = new ConcurrentQueue<string>();
        var steps = new ConcurrentQueue<(TimeSpan Took, string What)>();
        var rounds = new int[2];
        using var stop = new CancellationTokenSource();
        var loops = new[]
        {
            RoundsAsync(0, sender: First, member: Second),
            RoundsAsync(1, sender: Second, member: First),
        };

        // Rounds run on both front ends before the silo comes, while it joins, and for a while after it is counted.
        int[] Rounds() => [Volatile.Read(ref rounds[0]), Volatile.Read(ref rounds[1])];
        await UntilAsync(() => Rounds().All(r => r >= 3), "three rounds on each front end before adding a silo", failures);
        var roundsBeforeAdding = Rounds();
        var added = await cluster.AddSiloAsync();
        var roundsWhenAdded = Rounds();
        await UntilAsync(() => Rounds().Zip(roundsWhenAdded).All(r => r.First >= r.Second + 10), "ten more rounds on each front end after the silo was added", failures);
        await stop.CancelAsync();
        await Task.WhenAll(loops).WaitAsync(ClusterSocket.Timeout * 2);
        var roundsInAll = Rounds();
        output.WriteLine($"Rounds per front end: {string.Join(", ", roundsBeforeAdding)} before add-silo, {string.Join(", ", roundsWhenAdded)} when it returned, {string.Join(", ", roundsInAll)} in all.");
        output.WriteLine($"Slowest steps: {string.Join("; ", steps.OrderByDescending(s => s.Took).Take(3).Select(s => $"{s.What} {s.Took.TotalMilliseconds:F0} ms"))}.");

        // The rounds after it joined made new room and socket grains; placement is random, so the new silo must
        // hold some of them (with 3 silos and 20 or more new rooms, none would be a 1 in 3,000 chance).
        var census = await GrainCensus.TakeAsync(cluster.Redis);
        var held = census.GetValueOrDefault(added.SiloPort) ?? [];
        output.WriteLine($"The added silo holds: {string.Join(", ", held.Where(kv => kv.Key.EndsWith("Grain", StringComparison.Ordinal)).OrderBy(kv => kv.Key).Select(kv => $"{kv.Value} {kv.Key}"))}.");

        Assert.True(failures.IsEmpty, $"{failures.Count} failed requests, e.g.:\n{string.Join('\n', failures.Take(10))}");
        Assert.True(added.Process.IsRunning(), $"add-silo printed {added.Process}, which does not run");
        Assert.True(roundsWhenAdded.Zip(roundsBeforeAdding).All(r => r.First > r.Second), $"Rounds did not run on both front ends while the silo joined: {string.Join(", ", roundsBeforeAdding)} before add-silo, {string.Join(", ", roundsWhenAdded)} when it returned.");
        Assert.True(held.GetValueOrDefault("RoomGrain") + held.GetValueOrDefault("SocketGrain") > 0, $"The added silo took no room or socket grain of the {roundsInAll.Sum() - roundsWhenAdded.Sum()} rounds after it joined.");
        var silos = await cluster.SiloAddressesAsync();
        Assert.Equal(silosBefore + 1, silos.Count);
        foreach (var silo in silos)
        {
            await UntilAsync(async () => await ScriptedClusterFixture.ActiveSilosAsync(silo) == silosBefore + 1, $"{silo}/cluster counting {silosBefore + 1} active silos", failures);
        }

        // One socket on each front end: joins, is sent a broadcast from the other front end with its own
        // member, leaves; every request must answer 200, every broadcast must arrive, and none may stall.
        async Task RoundsAsync(int loop, Uri sender, Uri member)
        {
            try
            {
                await using var onSender = await ClusterSocket.ConnectAsync(sender, "round");
                await using var onMember = await ClusterSocket.ConnectAsync(member, "round");
                for (var round = 0; !stop.IsCancellationRequested; round++)
                {
                    var room = $"{NewRoom()}-loop{loop}-round{round}";
                    try
                    {
                        await Step($"join on {sender}", async () => Ok(await onSender.RequestAsync("POST", "/joinFunRoom", new { roomName = room })));
                        await Step($"join on {member}", async () => Ok(await onMember.RequestAsync("POST", "/joinFunRoom", new { roomName = room })));
                        await Step($"broadcast on {sender}", async () => Ok(await onSender.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "round", data = room })));
                        await Step($"the broadcast arriving on {member}", () => onMember.WaitForAsync("round", room));
                        await Step($"the broadcast arriving on {sender}", () => onSender.WaitForAsync("round", room));
                        await Step($"leave on {member}", async () => Ok(await onMember.RequestAsync("POST", "/leaveFunRoom", new { roomName = room })));
                        await Step($"leave on {sender}", async () => Ok(await onSender.RequestAsync("POST", "/leaveFunRoom", new { roomName = room })));
                        Interlocked.Increment(ref rounds[loop]);
                    }
                    catch (Exception ex)
                    {
                        failures.Enqueue($"loop {loop}, round {round} (room {room}): {ex.Message}");
                    }
                }
            }
            catch (Exception ex)
            {
                failures.Enqueue($"loop {loop}: {ex.GetType().Name}: {ex.Message}");
            }
        }

        async Task Step(string what, Func<Task> action)
        {
            var begun = DateTime.UtcNow;
            var began = Stopwatch.GetTimestamp();
            try
            {
                await action();
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException($"{what}, begun {begun:HH:mm:ss.fff} UTC: {ex.GetType().Name}: {ex.Message}", ex);
            }

            var took = Stopwatch.GetElapsedTime(began);
            steps.Enqueue((took, what));
            if (took > StallLimit)
            {
                throw new TimeoutException($"{what}, begun {begun:HH:mm:ss.fff} UTC, took {took.TotalSeconds:F1} s: a stall (the limit is {StallLimit.TotalSeconds:F0} s)");
            }
        }
    }

    private static string NewRoom() => "room-" + Guid.NewGuid().ToString("N")[..10];

    private static ClusterSocket.Reply Ok(ClusterSocket.Reply reply)
        => reply.StatusCode == 200 ? reply : throw new InvalidOperationException($"Expected 200, got {reply}");

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string path, object body, IReadOnlyDictionary<string, string> headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonSerializer.Deserialize<JsonElement>(text));
    }

    /// <summary>Polls <paramref name="condition"/> (bounded) for what has no event to wait on; fails at once when a request failed.</summary>
    private static Task UntilAsync(Func<bool> condition, string what, ConcurrentQueue<string> failures)
        => UntilAsync(() => Task.FromResult(condition()), what, failures);

    private static Task UntilAsync(Func<Task<bool>> condition, string what, ConcurrentQueue<string> failures)
        => Eventually.UntilAsync(
            async () => failures.IsEmpty
                ? await condition()
                : throw new InvalidOperationException($"A request failed while waiting for {what}:\n{string.Join('\n', failures.Take(10))}"),
            () => what,
            TimeSpan.FromSeconds(60),
            TimeSpan.FromMilliseconds(100));

}
