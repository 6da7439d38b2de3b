using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Rooms;
using Orleans.Rooms.Benchmarks;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;

// The membership core on one co-hosted silo (the embedded shape): no network between API and grains.
// Usage: dotnet run -c Release --project benchmarks/Rooms.Benchmarks [joinleave|broadcast|memory|all] [seconds]
var scenario = args.Length > 0 ? args[0] : "all";
var seconds = args.Length > 1 ? int.Parse(args[1]) : 10;

var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.UseOrleans(silo => silo.UseLocalhostClustering().AddRooms());
builder.Services.AddRoomService();
using var host = builder.Build();
await host.StartAsync();

var grains = host.Services.GetRequiredService<IGrainFactory>();
var api = host.Services.GetRequiredService<IRoomService>();
var frontEnd = new CountingFrontEnd();
var frontEndId = "bench-fe";
await grains.GetGrain<IFrontEndGrain>(frontEndId).Renew(grains.CreateObjectReference<IFrontEndObserver>(frontEnd), TimeSpan.FromHours(1));

if (scenario is "joinleave" or "all")
{
    await Scenarios.JoinLeave(grains, api, frontEndId, callers: 64, TimeSpan.FromSeconds(seconds));
}

if (scenario is "broadcast" or "all")
{
    await Scenarios.BroadcastPlanning(grains, api, frontEnd, frontEndId, members: 10_000, iterations: 200);
}

if (scenario is "memory" or "all")
{
    await Scenarios.MemoryPerMembership(grains, api, frontEndId, sockets: 10_000, roomsPerSocket: 10);
}

await host.StopAsync();

namespace Orleans.Rooms.Benchmarks
{
    internal static class Scenarios
    {
        public static async Task JoinLeave(IGrainFactory grains, IRoomService api, string frontEndId, int callers, TimeSpan duration)
        {
            var sockets = await Connect(grains, frontEndId, "jl", callers);
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
            await Disconnect(grains, frontEndId, sockets);
        }

        public static async Task BroadcastPlanning(IGrainFactory grains, IRoomService api, CountingFrontEnd frontEnd, string frontEndId, int members, int iterations)
        {
            var sockets = await Connect(grains, frontEndId, "bc", members);
            const string room = "bc-big-room";
            await Parallel.ForEachAsync(sockets, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (s, _) => await api.JoinAsync(s, room));

            var snapshot = await grains.GetGrain<IRoomGrain>(room).GetMembers();
            var planTimer = Stopwatch.StartNew();
            for (var i = 0; i < iterations; i++)
            {
                RoomService.PlanDeliveries([snapshot], [sockets[0]]);
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
                + $"broadcast_us={broadcastUs:F0} broadcast_with_except_us={exceptUs:F0} plan_with_except_us={planUs:F0} "
                + $"per_member_ns={broadcastUs * 1000 / members:F1}");
            await Disconnect(grains, frontEndId, sockets);
        }

        public static async Task MemoryPerMembership(IGrainFactory grains, IRoomService api, string frontEndId, int sockets, int roomsPerSocket)
        {
            var before = Measure();
            var rssBefore = Environment.WorkingSet;
            var ids = await Connect(grains, frontEndId, "mem", sockets);
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

        private static async Task<string[]> Connect(IGrainFactory grains, string frontEndId, string prefix, int count)
        {
            var ids = Enumerable.Range(0, count).Select(i => $"{prefix}-{i}").ToArray();
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (id, _) => await grains.GetGrain<IFrontEndGrain>(frontEndId).Connect(id));
            return ids;
        }

        private static Task Disconnect(IGrainFactory grains, string frontEndId, string[] ids)
            => Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (id, _) => await grains.GetGrain<IFrontEndGrain>(frontEndId).Disconnect(id));

        private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[(int)Math.Min(sorted.Length - 1, p * sorted.Length)];
    }

    /// <summary>A front end that only counts what it is handed (and keeps no records: nothing is rebuilt here).</summary>
    internal sealed class CountingFrontEnd : IFrontEndObserver
    {
        private long _batches;
        private long _deliveries;

        public long Batches => Interlocked.Read(ref _batches);

        public long Deliveries => Interlocked.Read(ref _deliveries);

        public void Reset()
        {
            Interlocked.Exchange(ref _batches, 0);
            Interlocked.Exchange(ref _deliveries, 0);
        }

        public Task Deliver(DeliveryBatch batch)
        {
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _deliveries, batch.SocketIds?.Length ?? 0);
            return Task.CompletedTask;
        }

        public Task RoomsChanged(string socketId, RoomsChange change) => Task.CompletedTask;

        public Task<RoomsSnapshot?> GetSocketRooms(string socketId) => Task.FromResult<RoomsSnapshot?>(null);
    }
}
