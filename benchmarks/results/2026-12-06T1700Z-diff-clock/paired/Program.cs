// paired URL_A PID_A URL_B PID_B SOCKETS BLOCKS OPS: two servers (two builds) side by side in time. SOCKETS SignalR
// clients on each join rooms of their own (J) and track themselves in rooms of their own (T, each track awaited until
// its own presence_diff came), in blocks of SOCKETS x OPS operations, the four kinds of block (J and T on A and on B)
// in an order that rotates every block; each server's CPU per operation read from /proc/PID/stat around its blocks,
// and its bytes allocated and GC pause per operation from its /metrics (System.Runtime's counters).
// Only one server is driven at a time, so a drift of the machine's speed weighs on both builds alike. The pooled
// lines leave out the first two blocks (warm-up).
// With PAIRED_PAD_MS set (added at stop 43 for a build that does not send a tracker its own diff: results
// 2026-12-06T2250Z-tracker-own-diff), no block waits for diffs: every block, J and T, ends that long after its last answer.
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

var n = int.Parse(args[4]); var blocks = int.Parse(args[5]); var perSocket = int.Parse(args[6]);
var servers = new[] { await Server.ConnectAsync("a", new Uri(args[0]), int.Parse(args[1]), n), await Server.ConnectAsync("b", new Uri(args[2]), int.Parse(args[3]), n) };
var tag = Guid.NewGuid().ToString("N")[..6];
var kinds = new[] { (0, "J"), (1, "J"), (0, "T"), (1, "T") };
var sums = new double[2, 2];
var allocs = new double[2, 2];
var pauses = new double[2, 2];
var ratios = new List<double>[] { [], [] };
for (var b = 0; b < blocks; b++)
{
    var cpu = new double[2, 2];
    for (var k = 0; k < kinds.Length; k++)
    {
        var (s, kind) = kinds[(k + b) % kinds.Length];
        var block = await servers[s].BlockAsync(kind, $"{tag}-{b}", perSocket);
        var x = kind == "J" ? 0 : 1;
        cpu[s, x] = block.Cpu;
        if (b >= 2)
        {
            allocs[s, x] += block.Bytes;
            pauses[s, x] += block.Pause;
        }
    }

    Console.WriteLine($"block {b}: a join {cpu[0, 0]:F0} track {cpu[0, 1]:F0} ({cpu[0, 1] / cpu[0, 0]:F2}x); b join {cpu[1, 0]:F0} track {cpu[1, 1]:F0} ({cpu[1, 1] / cpu[1, 0]:F2}x)");
    if (b >= 2)
    {
        for (var s = 0; s < 2; s++)
        {
            sums[s, 0] += cpu[s, 0];
            sums[s, 1] += cpu[s, 1];
            ratios[s].Add(cpu[s, 1] / cpu[s, 0]);
        }
    }
}

for (var s = 0; s < 2; s++)
{
    var count = ratios[s].Count;
    Console.WriteLine($"{servers[s].Name} pooled (blocks 2..): join {sums[s, 0] / count:F0} track {sums[s, 1] / count:F0} ratio {sums[s, 1] / sums[s, 0]:F2}; median ratio {ratios[s].Order().ElementAt(count / 2):F2}; allocated join {allocs[s, 0] / count:F0} B track {allocs[s, 1] / count:F0} B; GC pause join {pauses[s, 0] / count:F1} us track {pauses[s, 1] / count:F1} us");
}

foreach (var server in servers)
{
    await server.DisposeAsync();
}

internal sealed class Server(string name, Uri url, int pid, HubConnection[] sockets) : IAsyncDisposable
{
    private static readonly HttpClient Http = new();
    private long _diffs;

    public string Name => name;

    public static async Task<Server> ConnectAsync(string name, Uri url, int pid, int n)
    {
        var sockets = new HubConnection[n];
        var server = new Server(name, url, pid, sockets);
        for (var i = 0; i < n; i++)
        {
            var c = new HubConnectionBuilder().WithUrl(new Uri(url, "/sockets"), o => { o.Transports = HttpTransportType.WebSockets; o.SkipNegotiation = true; }).Build();
            c.On<JsonElement>("presence_diff", _ => Interlocked.Increment(ref server._diffs));
            c.On<JsonElement>("presence_state", _ => { });
            await c.StartAsync();
            sockets[i] = c;
        }

        return server;
    }

    /// <summary>One block; the server's CPU per operation in µs, bytes allocated per operation, GC pause per operation in µs.</summary>
    public async Task<(double Cpu, double Bytes, double Pause)> BlockAsync(string kind, string tag, int perSocket)
    {
        var (allocatedBefore, pauseBefore) = await RuntimeAsync();
        var before = Cpu();
        var expected = Interlocked.Read(ref _diffs) + (kind == "T" ? sockets.Length * perSocket : 0);
        await Task.WhenAll(sockets.Select(async (s, i) =>
        {
            for (var k = 0; k < perSocket; k++)
            {
                var room = $"{tag}-{kind}-{i}-{k}";
                var r = kind == "J"
                    ? await s.InvokeAsync<JsonElement>("Request", new { method = "POST", url = "/joinFunRoom", data = new { roomName = room } })
                    : await s.InvokeAsync<JsonElement>("Request", new { method = "POST", url = "/presence/track", data = new { roomName = room } });
                if (r.GetProperty("statusCode").GetInt32() != 200)
                {
                    throw new InvalidOperationException(r.ToString());
                }
            }
        }));
        if (int.TryParse(Environment.GetEnvironmentVariable("PAIRED_PAD_MS"), out var pad))
        {
            await Task.Delay(pad);
            expected = Interlocked.Read(ref _diffs);
        }

        for (var w = 0; w < 500 && Interlocked.Read(ref _diffs) < expected; w++)
        {
            await Task.Delay(10);
        }

        if (Interlocked.Read(ref _diffs) < expected)
        {
            Console.WriteLine($"{name}: missing diffs {expected - Interlocked.Read(ref _diffs)}");
        }

        var cpu = Cpu();
        var (allocated, pause) = await RuntimeAsync();
        var ops = (double)(sockets.Length * perSocket);
        return ((cpu - before) * 1e6 / ops, (allocated - allocatedBefore) / ops, (pause - pauseBefore) * 1e6 / ops);
    }

    private async Task<(double Allocated, double Pause)> RuntimeAsync()
    {
        var text = await Http.GetStringAsync(new Uri(url, "/metrics"));
        double Read(string name) => double.Parse(text.Split('\n').First(l => l.StartsWith(name + "{", StringComparison.Ordinal)).Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
        return (Read("dotnet_gc_heap_total_allocated_bytes_total"), Read("dotnet_gc_pause_time_seconds_total"));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in sockets)
        {
            await s.DisposeAsync();
        }
    }

    private double Cpu()
    {
        var f = File.ReadAllText($"/proc/{pid}/stat");
        var p = f[(f.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(p[11]) + long.Parse(p[12])) / 100.0;
    }
}
