using System.Diagnostics;
using System.Text.Json;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// What a track costs next to a join, through the whole request path of one embedded front end (in-process sockets
/// on the real hub, the example app's routes): many sockets at once, warm, the process's CPU time per request, the
/// diffs of the tracks (written to every member) included.
/// </summary>
[Collection(FrontEndCollection.Name)]
public sealed class PresenceCostTests(FrontEndFixture fixture, ITestOutputHelper output)
{
    private const int Sockets = 400;

    [Fact]
    public async Task ManyTracksAtOnceReachEveryMemberInFewDiffsWithTheirCostNextToAJoinPrinted()
    {
        var services = fixture.Server.Services;
        var sockets = await Task.WhenAll(Enumerable.Range(0, Sockets).Select(_ => InProcessSocket.ConnectAsync(services)));
        // What each member knows of the measured room: the state it was sent when it tracked, then the diffs' joins.
        var known = Enumerable.Range(0, Sockets).Select(_ => new HashSet<string>(StringComparer.Ordinal)).ToArray();
        var diffs = 0;
        using var stop = new CancellationTokenSource();
        var readers = sockets.Select((s, i) => Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var (name, payload) = await s.ReceiveAsync(stop.Token);
                    if (name is not ("presence_diff" or "presence_state") || !payload.GetProperty("room").GetString()!.StartsWith("measured-", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    lock (known[i])
                    {
                        known[i].UnionWith(payload.GetProperty(name == "presence_state" ? "state" : "joins").EnumerateObject().Select(key => key.Name));
                    }

                    if (i == 0 && name == "presence_diff")
                    {
                        Interlocked.Increment(ref diffs);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        })).ToArray();

        try
        {
            for (var round = 0; round < 3; round++)
            {
                await AllAsync(sockets, "/joinFunRoom", $"warm-{round}-{Unique.Room()}");
                await AllAsync(sockets, "/presence/track", $"warm-{round}-{Unique.Room()}");
            }

            var join = await AllAsync(sockets, "/joinFunRoom", "measured-j-" + Unique.Room());
            var room = "measured-t-" + Unique.Room();
            var tracking = Stopwatch.StartNew();
            var track = await CpuAsync(async () =>
            {
                await AllAsync(sockets, "/presence/track", room);
                tracking.Stop();
                await Eventually.HoldsAsync(() => Task.FromResult(known.All(k => { lock (k) { return k.Count == Sockets; } })), "every socket knowing every key");
            });

            var ratio = track / join;
            output.WriteLine($"{Sockets} sockets at once, warm, embedded: a join {Micros(join)} µs CPU, a track {Micros(track)} µs CPU with its state and diffs ({ratio:F2}× a join); {diffs} diffs to the first member for {Sockets} tracks");
            // At most one diff per diff window (50 ms) the tracks took to be answered, and one for the window that ends
            // after them: however slowly this machine serves them, each diff carries the tracks of its window.
            var bound = (int)(tracking.Elapsed / TimeSpan.FromMilliseconds(50)) + 2;
            output.WriteLine($"the tracks were answered in {tracking.Elapsed.TotalMilliseconds:F0} ms: at most {bound} diffs");
            Assert.True(diffs <= bound, $"{diffs} diffs for {Sockets} tracks answered in {tracking.Elapsed.TotalMilliseconds:F0} ms: more than one per 50 ms window (at most {bound}), not batched");
            Assert.True(diffs < Sockets / 4, $"{diffs} diffs for {Sockets} tracks at once: not batched");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(readers);
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    private static Task<TimeSpan> AllAsync(InProcessSocket[] sockets, string url, string room)
        => CpuAsync(async () =>
        {
            var answers = await Task.WhenAll(sockets.Select(s => s.RequestAsync("POST", url, new { roomName = room, key = s.Id })));
            Assert.All(answers, a => Assert.Equal(200, a.StatusCode));
        });

    private static async Task<TimeSpan> CpuAsync(Func<Task> work)
    {
        using var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        await work();
        process.Refresh();
        return process.TotalProcessorTime - before;
    }

    private static string Micros(TimeSpan cpu) => (cpu.TotalMilliseconds * 1000 / Sockets).ToString("F0", System.Globalization.CultureInfo.InvariantCulture);
}
