// jt URL PID SOCKETS BLOCKS OPS [J|T|JT]: SOCKETS SignalR clients join rooms of their own (J) and track themselves in
// rooms of their own (T, each track awaited until its own presence_diff came), in alternating blocks of SOCKETS x OPS
// operations, the server's CPU per operation read from /proc/PID/stat around each block. Alternating small blocks
// puts a join and a track side by side in time, so a drift of the machine's speed weighs on both alike. The pooled
// line leaves out the first two blocks (warm-up).
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

var url = new Uri(args[0]); var pid = int.Parse(args[1]); var n = int.Parse(args[2]); var blocks = int.Parse(args[3]); var perSocket = int.Parse(args[4]);
var mode = args.Length > 5 ? args[5] : "JT";
var sockets = new HubConnection[n];
long diffs = 0;
for (var i = 0; i < n; i++)
{
    var c = new HubConnectionBuilder().WithUrl(new Uri(url, "/sockets"), o => { o.Transports = HttpTransportType.WebSockets; o.SkipNegotiation = true; }).Build();
    c.On<JsonElement>("presence_diff", _ => Interlocked.Increment(ref diffs));
    c.On<JsonElement>("presence_state", _ => { });
    await c.StartAsync();
    sockets[i] = c;
}
double Cpu() { var f = File.ReadAllText($"/proc/{pid}/stat"); var p = f[(f.LastIndexOf(')') + 2)..].Split(' '); return (long.Parse(p[11]) + long.Parse(p[12])) / 100.0; }
var tag = Guid.NewGuid().ToString("N")[..6];
async Task Block(string kind, int b)
{
    var expected = Interlocked.Read(ref diffs) + (kind == "T" ? n * perSocket : 0);
    await Task.WhenAll(sockets.Select(async (s, i) =>
    {
        for (var k = 0; k < perSocket; k++)
        {
            var room = $"{tag}-{kind}-{b}-{i}-{k}";
            var r = kind == "J"
                ? await s.InvokeAsync<JsonElement>("Request", new { method = "POST", url = "/joinFunRoom", data = new { roomName = room } })
                : await s.InvokeAsync<JsonElement>("Request", new { method = "POST", url = "/presence/track", data = new { roomName = room } });
            if (r.GetProperty("statusCode").GetInt32() != 200) throw new Exception(r.ToString());
        }
    }));
    for (var w = 0; w < 500 && Interlocked.Read(ref diffs) < expected; w++) await Task.Delay(10);
    if (Interlocked.Read(ref diffs) < expected) Console.WriteLine($"missing diffs {expected - diffs}");
}
double J = 0, T = 0; var rows = new List<(double, double)>();
for (var b = 0; b < blocks; b++)
{
    var c0 = Cpu(); if (mode.Contains('J')) await Block("J", b); var c1 = Cpu(); if (mode.Contains('T')) await Block("T", b); var c2 = Cpu();
    var j = (c1 - c0) * 1e6 / (n * perSocket); var t = (c2 - c1) * 1e6 / (n * perSocket);
    if (b >= 2) { J += j; T += t; rows.Add((j, t)); }
    Console.WriteLine($"block {b}: join {j:F0} us, track {t:F0} us, {t / j:F2}x");
}
Console.WriteLine($"pooled (blocks 2..): join {J / rows.Count:F0} track {T / rows.Count:F0} ratio {T / J:F2}; median ratio {rows.Select(r => r.Item2 / r.Item1).Order().ElementAt(rows.Count / 2):F2}");
foreach (var s in sockets) await s.DisposeAsync();
