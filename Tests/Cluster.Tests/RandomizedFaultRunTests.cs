using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Orleans.Rooms.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.Cluster.Tests;

/// <summary>
/// A seeded run of faults in a row under load, judged against what was acknowledged (issue 18): sockets on both
/// front ends join and leave rooms while broadcasts go out every 150 ms, and silos are killed, stopped and added
/// and Redis restarted empty, in an order the seed picks. Every broadcast that was answered 200 is judged: each
/// member whose join completed before it was sent (and who did not change that room until it was answered) must
/// get it once; each socket known to be out of the room must not. At the end every acknowledged membership must
/// be listed on both front ends, and no socket dropped. The seed is printed (set ROOMS_FAULT_SEED to repeat one).
/// </summary>
[Collection(nameof(ProcessFaultTests))]
public sealed class RandomizedFaultRunTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int SocketsPerFrontEnd = 8;
    private const int RoomCount = 24;
    private const int Faults = 3;
    private static readonly TimeSpan BroadcastEvery = TimeSpan.FromMilliseconds(150);

    /// <summary>Before the first fault, each socket has this many changes answered (so it holds memberships to lose).</summary>
    private const int ChangesBeforeFirstFault = 12;

    /// <summary>Before the first fault, this many broadcasts have been answered (so deliveries are under way).</summary>
    private const int BroadcastsBeforeFirstFault = 10;

    /// <summary>
    /// After each fault (its add-silo included), the next waits at most this long for the cluster to heal (every silo
    /// sees every other Active, no heal window open) and for the load to be served well on the healed cluster: each
    /// fault heals on its own, as the faults SPEC names come.
    /// </summary>
    private static readonly TimeSpan HealLimit = TimeSpan.FromSeconds(60);

    /// <summary>An operation slower than this counts as the cluster not having recovered yet.</summary>
    private static readonly TimeSpan Healthy = TimeSpan.FromSeconds(1);

    private readonly List<ClusterSocket> _sockets = [];
    private ScriptedCluster? _cluster;

    [Fact]
    public async Task FaultsInARowUnderLoadLoseNoMembershipAndNoBroadcastAndDropNoSocket()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("ROOMS_FAULT_SEED"), CultureInfo.InvariantCulture, out var fixedSeed) ? fixedSeed : Random.Shared.Next();
        output.WriteLine($"seed {seed} (ROOMS_FAULT_SEED={seed} repeats this run)");
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        // The load runs as fast as answers come: on an idle machine one socket passes the per-socket request limit
        // (1,000 a second) and would be answered 429. The run judges faults, not that limit (LimitTests does).
        _cluster = await ScriptedCluster.StartAsync($"{nameof(RandomizedFaultRunTests)}/{seed}", silos: 3, frontEnds: 2, output.WriteLine, new Dictionary<string, string> { ["Rooms__Limits__RequestsPerSecondPerSocket"] = "1000000" });
        var cluster = _cluster;
        var frontEnds = cluster.FrontEnds.Select(f => f.Url).ToArray();
        var prefix = "fault-" + Guid.NewGuid().ToString("N")[..8];
        var rooms = Enumerable.Range(0, RoomCount).Select(i => $"{prefix}-r{i}").ToArray();
        for (var i = 0; i < SocketsPerFrontEnd * frontEnds.Length; i++)
        {
            _sockets.Add(await ClusterSocket.ConnectAsync(frontEnds[i % frontEnds.Length], "probe"));
        }

        var log = new ConcurrentQueue<Change>();
        var broadcasts = new ConcurrentQueue<Broadcast>();
        var attempts = new ConcurrentQueue<(TimeSpan SentAt, TimeSpan? AnsweredAt)>();
        var failures = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        using var stop = new CancellationTokenSource();
        var load = _sockets.Select((socket, k) => RunSocketAsync(socket, new Random(seed + k + 1), rooms, clock, log, failures, stop.Token)).ToList();
        load.Add(RunBroadcasterAsync(frontEnds, new Random(seed - 1), rooms, clock, broadcasts, attempts, failures, stop.Token));

        // The faults, in the seed's order: each kind once.
        var faults = new List<(string Kind, TimeSpan At)>();
        string[] kinds = ["kill -9 a silo, then add-silo", "SIGTERM a silo, then add-silo", "restart-redis (empty)"];
        int FewestAnswered()
        {
            var answered = log.Where(c => c.AckedAt is not null).CountBy(c => c.Socket).ToDictionary(StringComparer.Ordinal);
            return _sockets.Min(socket => answered.GetValueOrDefault(socket.Id));
        }

        bool ServedSince(TimeSpan since)
        {
            static bool Served(TimeSpan sentAt, TimeSpan? answeredAt, TimeSpan since) => sentAt >= since && answeredAt - sentAt <= Healthy;
            var served = log.Where(c => Served(c.SentAt, c.AckedAt, since)).Select(c => c.Socket).ToHashSet(StringComparer.Ordinal);
            return _sockets.All(socket => served.Contains(socket.Id)) && attempts.Any(a => Served(a.SentAt, a.AnsweredAt, since));
        }

        await Eventually.UntilAsync(
            () => Task.FromResult(broadcasts.Count >= BroadcastsBeforeFirstFault && FewestAnswered() >= ChangesBeforeFirstFault),
            () => $"load under way before the first fault: {broadcasts.Count} broadcasts answered, at least {FewestAnswered()} changes answered to each socket",
            TimeSpan.FromSeconds(60),
            TimeSpan.FromMilliseconds(100));
        foreach (var kind in kinds.OrderBy(_ => random.Next()).Take(Faults))
        {
            var at = clock.Elapsed;
            var windowsBefore = cluster.HealWindowsLogged();
            faults.Add((kind, at));
            var running = cluster.Silos.Where(s => s.Process.IsRunning()).ToArray();
            var silo = running[random.Next(running.Length)];
            switch (kind[..4])
            {
                case "kill":
                    await ScriptedCluster.KillAsync(silo.Process);
                    await cluster.AddSiloAsync();
                    break;
                case "SIGT":
                    await ScriptedCluster.TerminateAsync(silo.Process);
                    await cluster.AddSiloAsync();
                    break;
                default:
                    await cluster.RestartRedisAsync();
                    break;
            }

            output.WriteLine($"{at.TotalSeconds,6:F1} s: {kind} ({(kind.StartsWith("restart", StringComparison.Ordinal) ? "redis" : silo.Process.ToString())}), done after {(clock.Elapsed - at).TotalSeconds:F1} s");
            // Healed as the silos see it, then each socket and the broadcaster answered within Healthy since.
            var (healedIn, window) = await cluster.HealedAsync(HealLimit);
            // A silo lost opens the window on the silos that see it go (and an added one finds it gone on its first look);
            // Redis does not. Read from the silos' logs: a window opened when the loss was noticed can have closed
            // before the add-silo that waits for the loss to be declared was done.
            var windowsOpened = cluster.HealWindowsLogged() - windowsBefore;
            Assert.True(kind.StartsWith("restart", StringComparison.Ordinal) || windowsOpened > 0, $"{kind}: no silo logged a heal window open");
            var healedAt = clock.Elapsed;
            await Eventually.UntilAsync(
                () => Task.FromResult(ServedSince(healedAt)),
                () => $"every socket and the broadcaster answered within {Healthy.TotalSeconds} s since the cluster healed at {healedAt.TotalSeconds:F1} s",
                HealLimit,
                TimeSpan.FromMilliseconds(100));
            output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s: healed {healedIn.TotalSeconds:F1} s after the fault was done (heal windows opened: {windowsOpened}; the longest still open when it was done: {(window is { } w ? $"{w:F1} s" : "none")}), and served since");
        }

        stop.Cancel();
        await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(90));

        // Whatever was sent is queued once the broadcast is answered; a marker sent after the last one, from
        // each front end to each socket, arrives after anything queued before it.
        foreach (var frontEnd in frontEnds)
        {
            foreach (var socket in _sockets)
            {
                var marker = $"end-{frontEnd.Port}-{socket.Id}";
                var sent = await BoundedHttp.PostAsync(frontEnd, "/broadcastFunRoom", new { roomName = socket.Id, eventName = "marker", data = marker }, ClusterSocket.Timeout);
                Assert.True(sent.IsOk, sent.ToString());
                await socket.WaitForAsync("marker", marker);
            }
        }

        var changes = log.ToArray();
        var verdict = Judge(broadcasts.ToArray(), changes);
        var dropped = 0;
        foreach (var socket in _sockets)
        {
            var answer = await socket.RequestAsync("GET", "/socketId");
            if (answer.StatusCode != 200 || answer.Body.GetString() != socket.Id)
            {
                dropped++;
            }
        }

        var lost = await LostMembershipsAsync(frontEnds, rooms, changes);
        output.WriteLine($"ops {changes.Length} ({changes.Count(c => c.AckedAt is not null)} acknowledged), broadcasts {broadcasts.Count} ({verdict.Judged} deliveries judged)");
        output.WriteLine($"failed requests: {(failures.IsEmpty ? "none" : string.Join(", ", failures.OrderBy(f => f.Key).Select(f => $"{f.Key} x{f.Value}")))}");
        output.WriteLine($"lost memberships {lost.Count}, missed deliveries {verdict.Missed.Count}, duplicated {verdict.Duplicated.Count}, misdirected {verdict.Misdirected.Count}, dropped sockets {dropped}");
        var recoveries = new List<string>();
        for (var i = 0; i < faults.Count; i++)
        {
            var until = i + 1 < faults.Count ? faults[i + 1].At : clock.Elapsed;
            recoveries.Add($"{faults[i].Kind}: {Recovery([.. changes.Select(c => (c.SentAt, c.AckedAt)), .. attempts], faults[i].At, until)?.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) ?? "not within the run"} s");
        }

        output.WriteLine($"recovery (every request answered within {Healthy.TotalSeconds} s again) after {string.Join("; ", recoveries)}");
        CiSummary.Write("faults", $"seed {seed}: {changes.Length} joins/leaves, {broadcasts.Count} broadcasts ({verdict.Judged} deliveries judged); "
            + $"failed requests {(failures.IsEmpty ? "0" : string.Join(", ", failures.OrderBy(f => f.Key).Select(f => $"{f.Key} x{f.Value}")))}; "
            + $"lost memberships {lost.Count}, missed {verdict.Missed.Count}, duplicated {verdict.Duplicated.Count}, misdirected {verdict.Misdirected.Count}, dropped sockets {dropped}; recovery after {string.Join("; ", recoveries)}");

        Assert.True(lost.Count == 0, $"lost or wrong memberships: {string.Join("; ", lost.Take(10))}");
        Assert.True(verdict.Missed.Count == 0, $"missed deliveries: {string.Join("; ", verdict.Missed.Take(10))}");
        Assert.True(verdict.Duplicated.Count == 0, $"duplicated deliveries: {string.Join("; ", verdict.Duplicated.Take(10))}");
        Assert.True(verdict.Misdirected.Count == 0, $"misdirected deliveries: {string.Join("; ", verdict.Misdirected.Take(10))}");
        Assert.Equal(0, dropped);
        // A request may fail while the cluster heals, but only saying it may be retried as it is.
        Assert.True(failures.Keys.All(k => k.EndsWith(" retryable", StringComparison.Ordinal)), $"failed requests not marked retryable: {string.Join(", ", failures.Where(f => !f.Key.EndsWith(" retryable", StringComparison.Ordinal)).Select(f => $"{f.Key} x{f.Value}"))}");
        Assert.True(verdict.Judged > 0, "no delivery could be judged: the run proves nothing");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var socket in _sockets)
        {
            await socket.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.TearDownAsync();
        }
    }

    /// <summary>One socket's loop: join or leave (flipping its own membership of) a random room, each change logged with when it was sent and acknowledged.</summary>
    private static async Task RunSocketAsync(ClusterSocket socket, Random random, string[] rooms, Stopwatch clock, ConcurrentQueue<Change> log, ConcurrentDictionary<string, int> failures, CancellationToken stop)
    {
        var mine = new HashSet<string>(StringComparer.Ordinal);
        while (!stop.IsCancellationRequested)
        {
            var room = rooms[random.Next(rooms.Length)];
            var join = !mine.Contains(room);
            var sentAt = clock.Elapsed;
            string? failure = null;
            try
            {
                var answer = await socket.RequestAsync("POST", join ? "/joinFunRoom" : "/leaveFunRoom", new { roomName = room });
                failure = answer.StatusCode == 200 ? null : $"{(join ? "join" : "leave")} {answer.StatusCode}{(Retryable(answer.Body) ? " retryable" : "")}";
            }
            catch (Exception ex)
            {
                failure = $"{(join ? "join" : "leave")} {ex.GetType().Name}";
            }

            log.Enqueue(new Change(socket.Id, room, join, sentAt, failure is null ? clock.Elapsed : null));
            if (failure is null)
            {
                if (join)
                {
                    mine.Add(room);
                }
                else
                {
                    mine.Remove(room);
                }
            }
            else
            {
                failures.AddOrUpdate(failure, 1, (_, n) => n + 1);

                // A client's back-off after a failed request.
                await Task.Delay(100, CancellationToken.None);
            }
        }
    }

    /// <summary>A broadcast every <see cref="BroadcastEvery"/> to a random room, over HTTP from alternate front ends, each with its own payload.</summary>
    private static async Task RunBroadcasterAsync(Uri[] frontEnds, Random random, string[] rooms, Stopwatch clock, ConcurrentQueue<Broadcast> broadcasts, ConcurrentQueue<(TimeSpan SentAt, TimeSpan? AnsweredAt)> attempts, ConcurrentDictionary<string, int> failures, CancellationToken stop)
    {
        using var rate = new Rate(BroadcastEvery);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var room = rooms[random.Next(rooms.Length)];
            var payload = $"b{n}";
            var sentAt = clock.Elapsed;
            var answer = await BoundedHttp.PostAsync(frontEnds[n % frontEnds.Length], "/broadcastFunRoom", new { roomName = room, eventName = "probe", data = payload }, ClusterSocket.Timeout);
            attempts.Enqueue((sentAt, answer.IsOk ? clock.Elapsed : null));
            if (answer.IsOk)
            {
                broadcasts.Enqueue(new Broadcast(payload, room, sentAt, clock.Elapsed));
            }
            else
            {
                failures.AddOrUpdate($"broadcast {answer.Status?.ToString(CultureInfo.InvariantCulture) ?? answer.Failure}{(Retryable(answer.Body) ? " retryable" : "")}", 1, (_, c) => c + 1);
            }

            if (!await rate.NextAsync(stop))
            {
                break;
            }
        }
    }

    /// <summary>Each answered broadcast against the acknowledged changes: who had to get it, who must not have.</summary>
    private Verdict Judge(Broadcast[] broadcasts, Change[] changes)
    {
        var bySocketRoom = changes.GroupBy(c => (c.Socket, c.Room)).ToDictionary(g => g.Key, g => g.OrderBy(c => c.SentAt).ToArray());
        var received = _sockets.ToDictionary(s => s.Id, s => s.Received("probe").Select(p => p.GetString()!).GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal);
        var verdict = new Verdict();
        foreach (var broadcast in broadcasts)
        {
            foreach (var socket in _sockets.Select(s => s.Id))
            {
                var got = received[socket].GetValueOrDefault(broadcast.Payload);
                if (got > 1)
                {
                    verdict.Duplicated.Add($"{socket} got {broadcast.Payload} ({broadcast.Room}) {got} times");
                }

                switch (StateAt(bySocketRoom.GetValueOrDefault((socket, broadcast.Room)) ?? [], broadcast))
                {
                    case true:
                        verdict.Judged++;
                        if (got == 0)
                        {
                            verdict.Missed.Add($"{socket} missed {broadcast.Payload} to {broadcast.Room} sent at {broadcast.SentAt.TotalSeconds:F2} s");
                        }

                        break;
                    case false:
                        verdict.Judged++;
                        if (got > 0)
                        {
                            verdict.Misdirected.Add($"{socket}, not in {broadcast.Room}, got {broadcast.Payload} sent at {broadcast.SentAt.TotalSeconds:F2} s");
                        }

                        break;
                }
            }
        }

        return verdict;
    }

    /// <summary>
    /// Whether the socket was certainly in the room for the whole of the broadcast: its last change acknowledged
    /// before the send decides, unless a change of the room was sent before the answer came (then: null, not judged).
    /// </summary>
    private static bool? StateAt(Change[] history, Broadcast broadcast)
    {
        var member = false;
        foreach (var change in history)
        {
            if (change.SentAt >= broadcast.AnsweredAt)
            {
                break;
            }

            if (change.AckedAt is not { } acked || acked >= broadcast.SentAt)
            {
                return null; // in flight during the broadcast, or with an unknown outcome
            }

            member = change.Join;
        }

        return member;
    }

    /// <summary>Every room, asked on each front end, against what the acknowledged changes left.</summary>
    private static async Task<List<string>> LostMembershipsAsync(Uri[] frontEnds, string[] rooms, Change[] changes)
    {
        var problems = new List<string>();
        var final = changes.GroupBy(c => (c.Socket, c.Room)).ToDictionary(g => g.Key, g => g.OrderBy(c => c.SentAt).Last());
        foreach (var room in rooms)
        {
            var expected = final.Where(kv => kv.Key.Room == room && kv.Value is { AckedAt: not null, Join: true }).Select(kv => kv.Key.Socket).Order(StringComparer.Ordinal).ToArray();
            var unknown = final.Where(kv => kv.Key.Room == room && kv.Value.AckedAt is null).Select(kv => kv.Key.Socket).ToHashSet(StringComparer.Ordinal);
            foreach (var frontEnd in frontEnds)
            {
                var answer = await BoundedHttp.GetAsync(frontEnd, $"/funRoomSubscribers?roomName={room}", ClusterSocket.Timeout);
                if (!answer.IsOk)
                {
                    problems.Add(answer.ToString());
                    continue;
                }

                var listed = answer.Strings().Where(s => !unknown.Contains(s)).Order(StringComparer.Ordinal).ToArray();
                if (!listed.SequenceEqual(expected))
                {
                    problems.Add($"{room} on {frontEnd}: listed [{string.Join(", ", listed)}], acknowledged [{string.Join(", ", expected)}]");
                }
            }
        }

        return problems;
    }

    /// <summary>
    /// From the fault to the first request (join, leave or broadcast) after which every request, until the next
    /// fault or the end, was answered 200 within <see cref="Healthy"/>.
    /// </summary>
    private static TimeSpan? Recovery((TimeSpan SentAt, TimeSpan? AnsweredAt)[] requests, TimeSpan faultAt, TimeSpan end)
    {
        var after = requests.Where(c => c.SentAt >= faultAt && c.SentAt < end).OrderBy(c => c.SentAt).ToArray();
        TimeSpan? healthySince = null;
        foreach (var change in after)
        {
            var slow = change.AnsweredAt is not { } answered || answered - change.SentAt > Healthy;
            if (slow)
            {
                healthySince = null;
            }
            else
            {
                healthySince ??= change.SentAt;
            }
        }

        return healthySince is { } since && since < end ? since - faultAt : null;
    }

    private static bool Retryable(JsonElement body)
        => body.ValueKind == JsonValueKind.Object && body.TryGetProperty("retryable", out var retryable) && retryable.ValueKind == JsonValueKind.True;

    private sealed record Change(string Socket, string Room, bool Join, TimeSpan SentAt, TimeSpan? AckedAt);

    private sealed record Broadcast(string Payload, string Room, TimeSpan SentAt, TimeSpan AnsweredAt);

    private sealed class Verdict
    {
        public int Judged { get; set; }

        public List<string> Missed { get; } = [];

        public List<string> Duplicated { get; } = [];

        public List<string> Misdirected { get; } = [];
    }
}
