using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms;
using Orleans.Rooms.Benchmarks;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;
using Orleans.Rooms.Membership;

// The membership core on one co-hosted silo (the embedded shape): a front end's memberships, the grains that
// list it, and the room API, with no network and no sockets in between.
// Usage: dotnet run -c Release --project benchmarks/Rooms.Benchmarks [joinleave|broadcast|memory|all] [seconds]
var scenario = args.Length > 0 ? args[0] : "all";
var seconds = args.Length > 1 ? int.Parse(args[1]) : 10;

var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.UseOrleans(silo => silo.UseLocalhostClustering().AddRoomGrains());
using var host = builder.Build();
await host.StartAsync();

var grains = host.Services.GetRequiredService<IGrainFactory>();
var frontEnd = new CountingOutbox();
await using var core = FrontEndCore.Create(grains, frontEnd, new Dictionary<string, string?> { ["Rooms:FrontEnd:Id"] = "bench-fe" });
var membership = core.Membership;
var api = core.Api;
await grains.GetGrain<IFrontEndGrain>(core.Id).Renew(grains.CreateObjectReference<IFrontEndObserver>(core.Local), TimeSpan.FromHours(1));

if (scenario is "joinleave" or "all")
{
    await Scenarios.JoinLeave(core.Door, membership, api, callers: 64, TimeSpan.FromSeconds(seconds));
}

if (scenario is "broadcast" or "all")
{
    await Scenarios.Broadcast(core.Door, membership, api, frontEnd, members: 10_000, iterations: 200);
}

if (scenario is "memory" or "all")
{
    await Scenarios.MemoryPerMembership(core.Door, membership, api, sockets: 10_000, roomsPerSocket: 10);
}

await host.StopAsync();

namespace Orleans.Rooms.Benchmarks
{
    internal static class Scenarios
    {
        public static async Task JoinLeave(IClusterDoor door, FrontEndMembership membership, IRoomService api, int callers, TimeSpan duration)
        {
            var sockets = await Connect(membership, "jl", callers);
            long operations = 0;
            var latencies = new List<double>[callers];
            var stop = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
            {
                var mine = latencies[i] = new List<double>(100_000);
                var room = $"jl-room-{i % 16}";
                var count = 0L;
                while (stop.Elapsed < duration)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    await api.JoinAsync(sockets[i], room);
                    var t1 = Stopwatch.GetTimestamp();
                    await api.LeaveAsync(sockets[i], room);
                    var t2 = Stopwatch.GetTimestamp();
                    mine.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                    mine.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
                    count += 2;
                }

                Interlocked.Add(ref operations, count);
            })));
            var elapsed = stop.Elapsed.TotalSeconds;
            var all = latencies.SelectMany(l => l).Order().ToArray();
            Console.WriteLine($"joinleave: callers={callers} ops={operations} seconds={elapsed:F1} ops_per_s={operations / elapsed:F0} p50_ms={Percentile(all, 0.5):F3} p99_ms={Percentile(all, 0.99):F3}");
            await Disconnect(door, membership, sockets);
        }

        public static async Task Broadcast(IClusterDoor door, FrontEndMembership membership, IRoomService api, CountingOutbox frontEnd, int members, int iterations)
        {
            var sockets = await Connect(membership, "bc", members);
            const string room = "bc-big-room";
            await Parallel.ForEachAsync(sockets, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (s, _) => await api.JoinAsync(s, room));

            // What a front end does per batch: the room's local members, minus the excepted socket.
            var planTimer = Stopwatch.StartNew();
            for (var i = 0; i < iterations; i++)
            {
                membership.Recipients([room], [sockets[0]]);
            }

            var planUs = planTimer.Elapsed.TotalMicroseconds / iterations;

            frontEnd.Reset();
            var timer = Stopwatch.StartNew();
            for (var i = 0; i < iterations; i++)
            {
                await api.BroadcastAsync([room], "tick", i);
            }

            var broadcastUs = timer.Elapsed.TotalMicroseconds / iterations;
            timer.Restart();
            for (var i = 0; i < iterations; i++)
            {
                await api.BroadcastAsync([room], "tick", i, except: sockets[0]);
            }

            var exceptUs = timer.Elapsed.TotalMicroseconds / iterations;
            Console.WriteLine($"broadcast: members={members} batches={frontEnd.Batches} deliveries={frontEnd.Deliveries} "
                + $"broadcast_us={broadcastUs:F0} broadcast_with_except_us={exceptUs:F0} recipients_with_except_us={planUs:F0} "
                + $"per_member_ns={broadcastUs * 1000 / members:F1}");
            await Disconnect(door, membership, sockets);
        }

        public static async Task MemoryPerMembership(IClusterDoor door, FrontEndMembership membership, IRoomService api, int sockets, int roomsPerSocket)
        {
            var before = Measure();
            var rssBefore = Environment.WorkingSet;
            var ids = await Connect(membership, "mem", sockets);
            var connected = Measure();
            var rooms = sockets * roomsPerSocket / 100; // rooms of 100 members
            var timer = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, sockets), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
            {
                for (var r = 0; r < roomsPerSocket; r++)
                {
                    await api.JoinAsync(ids[i], $"mem-room-{(i * roomsPerSocket + r) % rooms}");
                }
            });
            var joinSeconds = timer.Elapsed.TotalSeconds;
            var after = Measure();
            var rssAfter = Environment.WorkingSet;
            var memberships = sockets * roomsPerSocket;
            Console.WriteLine($"memory: sockets={sockets} rooms={rooms} memberships={memberships} joins_per_s={memberships / joinSeconds:F0} "
                + $"bytes_per_socket={(connected - before) / (double)sockets:F0} bytes_per_membership={(after - connected) / (double)memberships:F0} "
                + $"bytes_per_membership_incl_sockets={(after - before) / (double)memberships:F0} managed_mb={after / 1048576.0:F0} "
                + $"rss_bytes_per_membership_incl_sockets={(rssAfter - rssBefore) / (double)memberships:F0}");
        }

        private static long Measure()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return GC.GetTotalMemory(forceFullCollection: true);
        }

        /// <summary>Sockets as the hub connects them: held by the front end (the cluster hears of them only when another front end looks for them).</summary>
        private static Task<string[]> Connect(FrontEndMembership membership, string prefix, int count)
        {
            var ids = Enumerable.Range(0, count).Select(i => $"{prefix}-{i}").ToArray();
            foreach (var id in ids)
            {
                membership.AddSocket(id);
            }

            return Task.FromResult(ids);
        }

        private static Task Disconnect(IClusterDoor door, FrontEndMembership membership, string[] ids)
            => Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (id, _) =>
            {
                membership.RemoveSocket(id);
                if (membership.ForgetLocation(id))
                {
                    await door.DisconnectAsync(id);
                }
            });

        private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[(int)Math.Min(sorted.Length - 1, p * sorted.Length)];
    }

    /// <summary>Where the real front end's events go, counted instead of written: each distinct event is a batch.</summary>
    internal sealed class CountingOutbox : ISocketOutbox
    {
        private long _batches;
        private long _deliveries;
        private OutgoingEvent? _last;

        public long Batches => Interlocked.Read(ref _batches);

        public long Deliveries => Interlocked.Read(ref _deliveries);

        public void Reset()
        {
            Interlocked.Exchange(ref _batches, 0);
            Interlocked.Exchange(ref _deliveries, 0);
        }

        public bool Send(string socketId, OutgoingEvent message)
        {
            if (Interlocked.Exchange(ref _last, message) != message)
            {
                Interlocked.Increment(ref _batches);
            }

            Interlocked.Increment(ref _deliveries);
            return true;
        }

        public int SendToAll(OutgoingEvent message, string[]? except)
        {
            Interlocked.Increment(ref _batches);
            return 0;
        }
    }
}
