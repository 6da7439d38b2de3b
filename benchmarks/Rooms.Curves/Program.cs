using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Orleans.Rooms.Curves;

// Growth curves against a running front end (benchmarks/run starts it), through real SignalR clients speaking
// docs/protocol.md. Writes one JSON line per point to --out; progress to stderr.
//   room_size: one room grows from 10 to 10,000 members (one socket each);
//   rooms:     a pool of sockets joins ever more rooms of one member each, 10 to 100,000 rooms in the system,
//              next to a fixed broadcast room of 100 members.
// At each point: join latency of an extra socket, time to deliver a broadcast to every member, and the server's
// CPU per delivery (from /proc/PID/stat, summed over every PID given: a cluster's silos and front ends).
//   presence:  N sockets join one room at once, then track themselves in another at once (docs/presence.md): the
//              server's CPU per join and per track (the diffs to every member included), the diffs per member and the
//              bytes of state and diffs delivered per track, then the same bytes broadcast to the room as plain 8 KB
//              events (what delivering them costs without presence); then each socket joins three rooms of its own
//              a round, tracks in three new ones, and tracks in the three it joined (no fan-out), a warm round and
//              five measured, the median ratios.
//   hot_room:  S senders broadcast to one room of a few members, each as fast as its broadcasts are acknowledged
//              (docs/cost-model.md, "Where it stops scaling": one room grain takes every broadcast to its room):
//              broadcasts a second, ack latency, the server's CPU per broadcast, deliveries the members saw.
//   resumable_fanout: M plain sockets, then M resumable ones (rooms.js' default, ?resumable=2: each event is
//              rooms.event with the socket's own number), in one room, are sent 100 events of about 100 bytes, 3
//              rounds, twice each, alternating: the server's CPU per delivery of each kind.
// Usage: Orleans.Rooms.Curves --url http://127.0.0.1:PORT --pid PID[,PID...] --out FILE [--quick] [--presence N]
//        [--hot-room SENDERS [--seconds S] [--members M]] [--resumable-fanout M]
var options = CurveOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: Orleans.Rooms.Curves --url http://127.0.0.1:PORT --pid PID[,PID...] --out FILE [--quick] [--presence N] [--hot-room SENDERS [--seconds S] [--members M]] [--resumable-fanout M]");
    return 2;
}

await using var output = new StreamWriter(options.Out, append: false) { AutoFlush = true };
await using var bench = new CurveBench(options, output);
if (options.HotRoomSenders is { } senders)
{
    await bench.HotRoomAxis(senders, options.HotRoomMembers, options.HotRoomSeconds);
}
else if (options.PresenceSockets is { } presenceSockets)
{
    await bench.PresenceAxis(presenceSockets);
}
else if (options.ResumableFanoutMembers is { } fanoutMembers)
{
    await bench.ResumableFanoutAxis(fanoutMembers);
}
else
{
    await bench.RoomSizeAxis();
    await bench.RoomsAxis();
}

return bench.Errors == 0 ? 0 : 1;

namespace Orleans.Rooms.Curves
{
    internal sealed record CurveOptions(Uri Url, int[] Pids, string Out, bool Quick, int? PresenceSockets = null, int? HotRoomSenders = null, int HotRoomMembers = 4, int HotRoomSeconds = 10, int? ResumableFanoutMembers = null)
    {
        public int[] RoomSizes => Quick ? [10, 100, 300] : [10, 100, 1_000, 3_000, 10_000];

        public int[] RoomCounts => Quick ? [10, 100, 1_000] : [10, 100, 1_000, 10_000, 100_000];

        /// <summary>Sockets that hold the rooms of the rooms axis (100,000 rooms = 1,000 × 100, under Rooms:MaxRoomsPerSocket).</summary>
        public int RoomPool => Quick ? 100 : 1_000;

        public int BroadcastRoomMembers => Quick ? 50 : 100;

        public int Joins => Quick ? 20 : 100;

        /// <summary>Broadcasts at one point: enough for about this many deliveries (so that the server's CPU, counted
        /// in 10 ms ticks, is well above its resolution in small rooms), within the bounds below.</summary>
        public int Broadcasts(int members) => Math.Clamp((Quick ? 2_000 : 20_000) / Math.Max(1, members), Quick ? 5 : 20, Quick ? 100 : 1_000);

        public static CurveOptions? Parse(string[] args)
        {
            string? url = null, output = null;
            int[]? pids = null;
            var quick = false;
            int? presence = null, hotRoom = null, resumableFanout = null;
            int members = 4, seconds = 10;
            for (var i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--url" when i + 1 < args.Length: url = args[++i]; break;
                    case "--pid" when i + 1 < args.Length: pids = [.. args[++i].Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))]; break;
                    case "--out" when i + 1 < args.Length: output = args[++i]; break;
                    case "--quick": quick = true; break;
                    case "--presence" when i + 1 < args.Length: presence = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--hot-room" when i + 1 < args.Length: hotRoom = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--resumable-fanout" when i + 1 < args.Length: resumableFanout = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--members" when i + 1 < args.Length: members = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--seconds" when i + 1 < args.Length: seconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    default: return null;
                }
            }

            return url is null || pids is null || output is null || hotRoom < 1 || members < 1 || seconds < 1 || resumableFanout < 1
                ? null
                : new CurveOptions(new Uri(url), pids, output, quick, presence, hotRoom, members, seconds, resumableFanout);
        }
    }

    internal sealed class CurveBench(CurveOptions options, StreamWriter output) : IAsyncDisposable
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
        private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

        /// <summary>After a phase's last answer, time for the diffs' delay (50 ms) and their sending, in its CPU window.</summary>
        private static readonly TimeSpan DiffPad = TimeSpan.FromMilliseconds(150);

        /// <summary>How long the server's idle CPU is read before a phase (taken off over <see cref="DiffPad"/>).</summary>
        private static readonly TimeSpan IdleSample = TimeSpan.FromSeconds(1);

        /// <summary>The client method a resumable socket's events come as (docs/protocol.md, "Resuming").</summary>
        private const string OutgoingEventMethod = "rooms.event";
        private readonly List<HubConnection> _all = [];
        private BroadcastWait? _current;

        private int _errors;

        public int Errors => Volatile.Read(ref _errors);

        public async Task RoomSizeAxis()
        {
            const string room = "curve-size";
            var members = new List<HubConnection>();
            var sender = await Connect(1);
            var probe = await Connect(1);
            foreach (var size in options.RoomSizes)
            {
                var more = await Connect(size - members.Count, listen: true);
                await ForEach(more, c => Join(c, room));
                members.AddRange(more);
                Log($"room_size {size}: {members.Count} members");
                await Measure(CurvePointAxis.RoomSize, size, members.Count, probe[0], _ => room, sender[0], room, members.Count);
            }

            await DisconnectAll();
        }

        public async Task RoomsAxis()
        {
            const string broadcastRoom = "curve-rooms-broadcast";
            var pool = await Connect(options.RoomPool, listen: true);
            var sender = await Connect(1);
            var probe = await Connect(1);
            var listeners = pool.Take(options.BroadcastRoomMembers).ToArray();
            await ForEach(listeners, c => Join(c, broadcastRoom));
            var rooms = 1; // the broadcast room
            var next = 0;
            foreach (var target in options.RoomCounts)
            {
                var from = next;
                var to = Math.Max(next, target - 1);
                await ForEach(Enumerable.Range(from, to - from).ToArray(), k => Join(pool[k % pool.Length], $"curve-rooms-{k}"));
                next = to;
                rooms = 1 + next;
                Log($"rooms {target}: {rooms} rooms over {pool.Length} sockets");
                await Measure(CurvePointAxis.Rooms, target, listeners.Length, probe[0], i => $"curve-rooms-probe-{target}-{i}", sender[0], broadcastRoom, listeners.Length);
            }

            await DisconnectAll();
        }

        /// <summary>
        /// <paramref name="count"/> sockets join a room at once, then track themselves in another at once; the server's
        /// CPU for each burst, the tracks' until every member was sent every join. Two warm rounds of each first.
        /// </summary>
        public async Task PresenceAxis(int count)
        {
            var sockets = await Connect(count);
            var seen = Enumerable.Range(0, count).Select(_ => new HashSet<string>(StringComparer.Ordinal)).ToArray();
            var joinsSeen = new int[count];
            var diffsSeen = new int[count];
            var ownDiffs = 0;
            long presenceBytes = 0;
            long bulkSeen = 0;
            string? measured = null;
            for (var i = 0; i < count; i++)
            {
                var k = i;

                // What a member knows of the room: the state it was sent when it tracked, then the diffs' joins.
                void Saw(JsonElement keys)
                {
                    lock (seen[k])
                    {
                        seen[k].UnionWith(keys.EnumerateObject().Select(key => key.Name));
                        Volatile.Write(ref joinsSeen[k], seen[k].Count);
                    }
                }

                sockets[i].On<JsonElement>("presence_state", state =>
                {
                    if (state.GetProperty("room").GetString() == Volatile.Read(ref measured))
                    {
                        Interlocked.Add(ref presenceBytes, state.GetRawText().Length);
                        Saw(state.GetProperty("state"));
                    }
                });
                sockets[i].On<JsonElement>("presence_diff", diff =>
                {
                    var room = diff.GetProperty("room").GetString();
                    if (room == Volatile.Read(ref measured))
                    {
                        Interlocked.Add(ref presenceBytes, diff.GetRawText().Length);
                        Saw(diff.GetProperty("joins"));
                        Interlocked.Increment(ref diffsSeen[k]);
                    }
                    else if (room?.StartsWith("presence-own-track-", StringComparison.Ordinal) == true)
                    {
                        Interlocked.Increment(ref ownDiffs);
                    }
                });
                sockets[i].On<JsonElement>("bulk", _ => Interlocked.Increment(ref bulkSeen));
            }

            for (var round = 0; round < 2; round++)
            {
                await ForEach(sockets, c => Join(c, $"presence-warm-join-{round}"));
                await ForEach(sockets, c => Request(c, "/presence/track", new { roomName = $"presence-warm-track-{round}" }));
            }

            await Task.Delay(Settle);
            var cpu = ServerCpuSeconds();
            await ForEach(sockets, c => Join(c, "presence-measured-join"));
            var joinCpu = ServerCpuSeconds() - cpu;
            await Task.Delay(Settle);

            Volatile.Write(ref measured, "presence-measured-track");
            cpu = ServerCpuSeconds();
            var t0 = Stopwatch.GetTimestamp();
            await ForEach(sockets, c => Request(c, "/presence/track", new { roomName = measured }));
            var acked = Stopwatch.GetElapsedTime(t0);
            await UntilAsync(() => joinsSeen.All(n => Volatile.Read(ref n) >= count));
            var allSeen = Stopwatch.GetElapsedTime(t0);
            var trackCpu = ServerCpuSeconds() - cpu;
            var complete = joinsSeen.Count(n => n >= count);
            var presenceKb = Volatile.Read(ref presenceBytes) / 1024.0;
            Log($"presence {count}: join {joinCpu * 1e6 / count:F0} µs CPU, track {trackCpu * 1e6 / count:F0} µs CPU ({trackCpu / joinCpu:F2}×); tracks acked in {acked.TotalMilliseconds:F0} ms, every join seen by {complete} of {count} in {allSeen.TotalMilliseconds:F0} ms; diffs per member {diffsSeen.Min()}..{diffsSeen.Max()}; {presenceKb / count:F0} KB of state and diffs delivered per track");

            // The same bytes as plain broadcasts to the same room (all of them are members): what delivering them costs
            // without presence. A track in this room costs its join and the delivery of what it must send.
            const int BulkBytes = 8 * 1024;
            var bulks = Math.Max(1, (int)Math.Round(presenceKb * 1024 / ((double)BulkBytes * count)));
            await Task.Delay(Settle);
            var bulkSender = (await Connect(1))[0];
            var pad = new string('x', BulkBytes - 16);
            var bulkCpu = await BroadcastCpuAsync(bulkSender, measured, "bulk", bulks, _ => new { pad }, () => Volatile.Read(ref bulkSeen), (long)bulks * count, "presence, plain broadcasts");
            var bulkCpuPerKb = bulkCpu * 1e6 / (bulks * (BulkBytes / 1024.0) * count);
            var deliveryFloor = (joinCpu * 1e6 / count) + (bulkCpuPerKb * presenceKb / count);
            Log($"presence {count}: the same bytes as plain broadcasts ({bulks} of {BulkBytes / 1024} KB to {count}): {bulkCpuPerKb:F2} µs CPU per KB delivered; a join and the delivery of a track's bytes: {deliveryFloor:F0} µs, the track {trackCpu * 1e6 / count / deliveryFloor:F2}× that");
            await output.WriteLineAsync(JsonSerializer.Serialize(new
            {
                axis = "presence",
                x = count,
                join_cpu_us = Math.Round(joinCpu * 1e6 / count, 1),
                track_cpu_us = Math.Round(trackCpu * 1e6 / count, 1),
                ratio = Math.Round(trackCpu / joinCpu, 2),
                tracks_acked_ms = Math.Round(acked.TotalMilliseconds),
                all_joins_seen_ms = Math.Round(allSeen.TotalMilliseconds),
                members_complete = complete,
                diffs_per_member_max = diffsSeen.Max(),
                kb_delivered_per_track = Math.Round(presenceKb / count, 1),
                broadcast_cpu_us_per_kb = Math.Round(bulkCpuPerKb, 2),
                join_and_delivery_us = Math.Round(deliveryFloor, 1),
                track_over_join_and_delivery = Math.Round(trackCpu * 1e6 / count / deliveryFloor, 2),
            }));
            if (complete < count)
            {
                Interlocked.Increment(ref _errors);
            }

            // Without the fan-out: each socket joins rooms of its own, then tracks in others of its own (the track joins
            // them), then tracks in the rooms it joined; each track until every socket has the diffs of its own tracks (the
            // client's ConnectionId is null without a negotiation: rooms by index). Three rooms a socket a round, so that
            // a window holds enough CPU ticks (1/100 s) to measure. A warm round, then five, each with new rooms (a join
            // and a track in a new room create its room grain); the median ratios.
            const int OwnRounds = 5;
            const int OwnRoomsPerSocket = 3;
            var ops = count * OwnRoomsPerSocket;
            var own = new List<(double Join, double Track, double TrackJoined)>();

            // Server CPU per operation of a phase, until what it left running is done: a tracker whose state has its
            // room's diff is not sent that diff (docs/presence.md), so nothing tells when it was sent; each phase's
            // window, joins and tracks alike, stays open DiffPad past its last answer (the diff's delay is 50 ms), and
            // the server's idle CPU over that pad, read just before the phase, is taken off.
            async Task<double> Phase(Func<int, Task> operation)
            {
                await Task.Delay(Settle);
                var (idleCpu, idleAt) = (ServerCpuSeconds(), Stopwatch.GetTimestamp());
                await Task.Delay(IdleSample);
                var idleRate = (ServerCpuSeconds() - idleCpu) / Stopwatch.GetElapsedTime(idleAt).TotalSeconds;
                var (before, startedAt) = (ServerCpuSeconds(), Stopwatch.GetTimestamp());
                await ForEach(Enumerable.Range(0, ops).ToArray(), operation);
                var (answered, padAt) = (ServerCpuSeconds(), Stopwatch.GetTimestamp());
                await Task.Delay(DiffPad);
                var perOp = (ServerCpuSeconds() - before - (idleRate * Stopwatch.GetElapsedTime(padAt).TotalSeconds)) / ops;
                Log($"  presence phase: {(answered - before) * 1e6 / ops:F0} µs CPU per op at the last answer ({Stopwatch.GetElapsedTime(startedAt, padAt).TotalMilliseconds:F0} ms), {perOp * 1e6:F0} µs with the pad; idle {idleRate * 1e3:F1} ms CPU/s");
                return perOp;
            }

            // A build that sends a tracker its own diff: counted, not awaited.
            async Task<double> Tracks(Func<int, string> roomOf)
            {
                Volatile.Write(ref ownDiffs, 0);
                var cpuPerTrack = await Phase(i => Request(sockets[i % count], "/presence/track", new { roomName = roomOf(i) }));
                Log($"  presence phase: {Volatile.Read(ref ownDiffs)} of {ops} trackers were sent their own diff by the pad's end");
                return cpuPerTrack;
            }

            for (var round = -1; round < OwnRounds; round++)
            {
                var ownJoinCpu = await Phase(i => Join(sockets[i % count], $"presence-own-track-{round}-joined-{i}"));
                var ownTrackCpu = await Tracks(i => $"presence-own-track-{round}-new-{i}");
                var joinedTrackCpu = await Tracks(i => $"presence-own-track-{round}-joined-{i}");
                if (round < 0)
                {
                    continue; // the warm round
                }

                own.Add((ownJoinCpu, ownTrackCpu, joinedTrackCpu));
                Log($"presence {count}, a room each ({OwnRoomsPerSocket} a socket), round {round + 1}: join {ownJoinCpu * 1e6:F0} µs CPU; track in a new room {ownTrackCpu * 1e6:F0} µs ({ownTrackCpu / ownJoinCpu:F2}×), in a room joined {joinedTrackCpu * 1e6:F0} µs ({joinedTrackCpu / ownJoinCpu:F2}×)");
            }

            await output.WriteLineAsync(JsonSerializer.Serialize(new
            {
                axis = "presence_own_rooms",
                x = count,
                join_cpu_us = Math.Round(Median(own.Select(r => r.Join)) * 1e6, 1),
                track_new_room_cpu_us = Math.Round(Median(own.Select(r => r.Track)) * 1e6, 1),
                track_joined_room_cpu_us = Math.Round(Median(own.Select(r => r.TrackJoined)) * 1e6, 1),
                ratio = Math.Round(Median(own.Select(r => r.Track / r.Join)), 2),
                ratio_joined = Math.Round(Median(own.Select(r => r.TrackJoined / r.Join)), 2),
                ratios = own.Select(r => Math.Round(r.Track / r.Join, 2)).ToArray(),
                ratios_joined = own.Select(r => Math.Round(r.TrackJoined / r.Join, 2)).ToArray(),
            }));

            await DisconnectAll();
        }

        /// <summary>
        /// <paramref name="members"/> sockets in one room, plain or resumable (<c>?resumable=2</c>), are sent 100 events of
        /// about 100 bytes, each broadcast after the last is answered, until every member has every one; 3 rounds a kind,
        /// each kind twice, alternating, on one server. The resumable sockets never acknowledge (their buffer stays at
        /// its bound, as a client's that acknowledges late would).
        /// </summary>
        public async Task ResumableFanoutAxis(int members)
        {
            const int Events = 100;
            var cpuPerDelivery = new Dictionary<string, List<double>> { ["plain"] = [], ["resumable"] = [] };
            foreach (var kind in new[] { "plain", "resumable", "plain", "resumable" })
            {
                var got = 0;
                var sockets = await Connect(members, query: kind == "plain" ? null : "resumable=2");
                foreach (var socket in sockets)
                {
                    // Registered before the sockets join: no event comes to them until then.
                    socket.On<JsonElement>("tick", _ => Interlocked.Increment(ref got));
                    socket.On<long, string, JsonElement, string>(OutgoingEventMethod, (_, _, _, _) => Interlocked.Increment(ref got));
                }

                var room = $"resumable-fanout-{kind}-{Guid.NewGuid():N}";
                await ForEach(sockets, c => Join(c, room));
                var sender = (await Connect(1))[0];
                for (var round = 0; round < 3; round++)
                {
                    await Task.Delay(Settle);
                    Volatile.Write(ref got, 0);
                    var pad = new string('x', 80);
                    var cpu = await BroadcastCpuAsync(sender, room, "tick", Events, e => new { e, pad }, () => Volatile.Read(ref got), Events * members, $"resumable_fanout {kind}");
                    var perDelivery = cpu * 1e6 / (Events * members);

                    cpuPerDelivery[kind].Add(perDelivery);
                    Log($"resumable_fanout {members}, {kind}, round {round + 1}: {perDelivery:F2} µs server CPU per delivery");
                }

                await DisconnectAll();
            }

            var ratio = Median(cpuPerDelivery["resumable"]) / Median(cpuPerDelivery["plain"]);
            Log($"resumable_fanout {members}: plain {Median(cpuPerDelivery["plain"]):F2} µs, resumable {Median(cpuPerDelivery["resumable"]):F2} µs per delivery (medians of 6 rounds): {ratio:F2}×");
            await output.WriteLineAsync(JsonSerializer.Serialize(new
            {
                axis = "resumable_fanout",
                x = members,
                plain_cpu_us = cpuPerDelivery["plain"].Select(v => Math.Round(v, 2)).ToArray(),
                resumable_cpu_us = cpuPerDelivery["resumable"].Select(v => Math.Round(v, 2)).ToArray(),
                ratio = Math.Round(ratio, 2),
            }));
        }

        /// <summary>
        /// <paramref name="senders"/> sockets broadcast to one room of <paramref name="members"/> (not senders), each
        /// its next broadcast as soon as the last is acknowledged, for <paramref name="seconds"/> after a warm-up of 2 s.
        /// </summary>
        public async Task HotRoomAxis(int senders, int members, int seconds)
        {
            const string room = "hot-room";
            var listeners = await Connect(members);
            long seen = 0;
            foreach (var listener in listeners)
            {
                listener.On<JsonElement>("tick", _ => Interlocked.Increment(ref seen));
            }

            await ForEach(listeners, c => Join(c, room));
            var sending = await Connect(senders);

            async Task<List<double>> Run(TimeSpan length)
            {
                var latencies = new List<double>[senders];
                var until = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
                await Task.WhenAll(sending.Select(async (sender, i) =>
                {
                    var mine = latencies[i] = [];
                    for (var b = 0; Stopwatch.GetTimestamp() < until; b++)
                    {
                        // Only a broadcast answered 200 counts: one refused (a socket past Rooms:Limits:RequestsPerSecondPerSocket,
                        // 1,000 a second) is an error, and the run's errors say so.
                        var t0 = Stopwatch.GetTimestamp();
                        if (await Request(sender, "/broadcastFunRoom", new { roomName = room, eventName = "tick", data = new { s = b } }))
                        {
                            mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                        }
                    }
                }));
                return [.. latencies.SelectMany(l => l)];
            }

            await Run(TimeSpan.FromSeconds(2));
            await Task.Delay(Settle);
            var seenBefore = Interlocked.Read(ref seen);
            var errorsBefore = Errors;
            var cpu = ServerCpuSeconds();
            var t0 = Stopwatch.GetTimestamp();
            var acks = await Run(TimeSpan.FromSeconds(seconds));
            var elapsed = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            cpu = ServerCpuSeconds() - cpu;

            // The last broadcasts' deliveries may still be on their way: wait (bounded) for every one acknowledged.
            var expected = seenBefore + ((long)acks.Count * members);
            await UntilAsync(() => Interlocked.Read(ref seen) >= expected);

            var line = JsonSerializer.Serialize(new
            {
                axis = "hot_room",
                senders,
                members,
                seconds = Math.Round(elapsed, 2),
                broadcasts = acks.Count,
                broadcasts_per_s = Math.Round(acks.Count / elapsed),
                ack_ms = Summary(acks),
                server_cpu_s = Math.Round(cpu, 2),
                server_cpu_us_per_broadcast = acks.Count > 0 ? Math.Round(cpu * 1e6 / acks.Count, 1) : (double?)null,
                server_cores_busy = Math.Round(cpu / elapsed, 2),
                deliveries_expected = expected - seenBefore,
                deliveries_seen = Interlocked.Read(ref seen) - seenBefore,
                errors = Errors - errorsBefore,
            });
            await output.WriteLineAsync(line);
            Log("  " + line);
            await DisconnectAll();
        }

        private async Task Measure(string axis, int x, int members, HubConnection probe, Func<int, string> probeRoom, HubConnection sender, string broadcastRoom, int expected)
        {
            // The growth just before is a burst of joins; what the server does after answering them (collections,
            // grain work that follows an answer) is not part of this point.
            await Task.Delay(Settle);
            var joins = new List<double>();
            for (var i = 0; i < options.Joins; i++)
            {
                var room = probeRoom(i);
                joins.Add(await Join(probe, room));
                await Request(probe, "/leaveFunRoom", new { roomName = room });
            }

            var delivers = new List<double>();
            long lost = 0;
            var cpuBefore = ServerCpuSeconds();
            var broadcasts = options.Broadcasts(expected);
            for (var b = 0; b < broadcasts; b++)
            {
                var wait = _current = new BroadcastWait(b, expected);
                var t0 = Stopwatch.GetTimestamp();
                await Request(sender, "/broadcastFunRoom", new { roomName = broadcastRoom, eventName = "tick", data = new { s = b } });
                if (await Task.WhenAny(wait.Done.Task, Task.Delay(Timeout)) != wait.Done.Task)
                {
                    lost += expected - wait.Count;
                    Log($"  broadcast {b}: {wait.Count}/{expected} arrived within {Timeout.TotalSeconds} s");
                    continue;
                }

                delivers.Add(Stopwatch.GetElapsedTime(t0, wait.LastArrival).TotalMilliseconds);
            }

            var cpu = ServerCpuSeconds() - cpuBefore;
            _current = null;
            var deliveries = (long)expected * broadcasts - lost;
            var line = JsonSerializer.Serialize(new
            {
                axis,
                x,
                members,
                join_ms = Summary(joins),
                deliver_ms = Summary(delivers),
                broadcasts,
                deliveries,
                lost,
                server_cpu_s = Math.Round(cpu, 3),
                server_cpu_us_per_delivery = deliveries > 0 ? Math.Round(cpu * 1e6 / deliveries, 3) : (double?)null,
                errors = Errors,
            });
            await output.WriteLineAsync(line);
            Log("  " + line);
        }

        private async Task<double> Join(HubConnection connection, string room)
        {
            var t0 = Stopwatch.GetTimestamp();
            await Request(connection, "/joinFunRoom", new { roomName = room });
            return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }

        /// <summary>A request; true when answered 200. Errors are counted, and the first 20 logged.</summary>
        private async Task<bool> Request(HubConnection connection, string url, object data)
        {
            try
            {
                var reply = await connection.InvokeAsync<JsonElement>("Request", new { method = "POST", url, data }).WaitAsync(Timeout);
                var status = reply.GetProperty("statusCode").GetInt32();
                if (status != 200)
                {
                    Error($"  {url} answered {status}: {reply.GetProperty("body").GetRawText()}");
                    return false;
                }

                return true;
            }
            catch (Exception e) when (e is TimeoutException or HubException or InvalidOperationException)
            {
                Error($"  {url} failed: {e.Message}");
                return false;
            }
        }

        private void Error(string text)
        {
            if (Interlocked.Increment(ref _errors) <= 20)
            {
                Log(text);
            }
        }

        /// <param name="query">Added to the hub's URL (<c>resumable=2</c>: sockets that follow the resume contract).</param>
        private async Task<HubConnection[]> Connect(int count, bool listen = false, string? query = null)
        {
            var connections = new HubConnection[Math.Max(0, count)];
            var t0 = Stopwatch.GetTimestamp();
            await Parallel.ForEachAsync(Enumerable.Range(0, connections.Length), new ParallelOptions { MaxDegreeOfParallelism = 50 }, async (i, _) =>
            {
                // WebSockets straight away: a negotiation would leave an idle pooled HTTP connection per socket, two
                // open files each where 10,000 sockets must fit in this process's ~20,000.
                var connection = new HubConnectionBuilder()
                    .WithUrl(new Uri(options.Url, query is null ? "/sockets" : $"/sockets?{query}"), o =>
                    {
                        o.Transports = HttpTransportType.WebSockets;
                        o.SkipNegotiation = true;
                    })
                    .Build();
                if (listen)
                {
                    connection.On<JsonElement>("tick", payload => _current?.Arrived(payload));
                }

                await connection.StartAsync().WaitAsync(Timeout);
                connections[i] = connection;
            });
            lock (_all)
            {
                _all.AddRange(connections);
            }

            if (connections.Length > 10)
            {
                Log($"  connected {connections.Length} sockets in {Stopwatch.GetElapsedTime(t0).TotalSeconds:F1} s; {_all.Count} open, {Directory.GetFiles("/proc/self/fd").Length} open files in this process");
            }

            return connections;
        }

        private static Task ForEach<T>(T[] items, Func<T, Task> action)
            => Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (item, _) => await action(item));

        private async Task DisconnectAll()
        {
            HubConnection[] all;
            lock (_all)
            {
                all = [.. _all];
                _all.Clear();
            }

            await ForEach(all, async c => await c.DisposeAsync().AsTask().WaitAsync(Timeout));
        }

        /// <summary>
        /// Broadcasts <paramref name="events"/> events to the room, each once the last is answered, then waits (bounded)
        /// until <paramref name="delivered"/> reaches <paramref name="expected"/>; the server's CPU seconds for it all.
        /// </summary>
        private async Task<double> BroadcastCpuAsync(HubConnection sender, string room, string eventName, int events, Func<int, object> data, Func<long> delivered, long expected, string what)
        {
            var cpu = ServerCpuSeconds();
            for (var e = 0; e < events; e++)
            {
                await Request(sender, "/broadcastFunRoom", new { roomName = room, eventName, data = data(e) });
            }

            if (!await UntilAsync(() => delivered() >= expected))
            {
                Error($"  {what}: {delivered()} of {expected} delivered");
            }

            return ServerCpuSeconds() - cpu;
        }

        /// <summary>Polls <paramref name="done"/> every 5 ms until it holds or <see cref="Timeout"/> has passed; whether it held.</summary>
        private static async Task<bool> UntilAsync(Func<bool> done)
        {
            var start = Stopwatch.GetTimestamp();
            while (!done())
            {
                if (Stopwatch.GetElapsedTime(start) >= Timeout)
                {
                    return false;
                }

                await Task.Delay(5);
            }

            return true;
        }

        private static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted[sorted.Length / 2];
        }

        /// <summary>User + system CPU of the server's processes so far (clock ticks of 1/100 s, the Linux USER_HZ).</summary>
        private double ServerCpuSeconds() => options.Pids.Sum(pid =>
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        });

        private static object Summary(List<double> values)
        {
            var sorted = values.Order().ToArray();
            double At(double p) => sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1))], 3);
            return new { n = sorted.Length, p50 = At(0.5), p90 = At(0.9), p99 = At(0.99), max = At(1.0) };
        }

        private static void Log(string text) => Console.Error.WriteLine($"curves: {text}");

        public async ValueTask DisposeAsync() => await DisconnectAll();
    }

    internal static class CurvePointAxis
    {
        public const string RoomSize = "room_size";
        public const string Rooms = "rooms";
    }

    /// <summary>Counts the members that got broadcast <see cref="Sequence"/>; done when all <see cref="Expected"/> have.</summary>
    internal sealed class BroadcastWait(int sequence, int expected)
    {
        private int _count;

        public int Sequence => sequence;

        public int Expected => expected;

        public int Count => Volatile.Read(ref _count);

        public long LastArrival { get; private set; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Arrived(JsonElement payload)
        {
            if (!payload.TryGetProperty("s", out var s) || s.GetInt32() != sequence)
            {
                return;
            }

            if (Interlocked.Increment(ref _count) == expected)
            {
                LastArrival = Stopwatch.GetTimestamp();
                Done.TrySetResult();
            }
        }
    }
}
