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
    public async Task ATrackCostsAboutAJoinAndItsDiffsAreFew()
    {
        var services = fixture.Server.Services;
        var sockets = await Task.WhenAll(Enumerable.Range(0, Sockets).Select(_ => InProcessSocket.ConnectAsync(services)));
        var joinsSeen = new int[Sockets];
        var diffs = 0;
        using var stop = new CancellationTokenSource();
        var readers = sockets.Select((s, i) => Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var (name, payload) = await s.ReceiveAsync(stop.Token);
                    if (name == "presence_diff" && payload.GetProperty("room").GetString()!.StartsWith("measured-", StringComparison.Ordinal))
                    {
                        Interlocked.Add(ref joinsSeen[i], payload.GetProperty("joins").EnumerateObject().Count());
                        if (i == 0)
                        {
                            Interlocked.Increment(ref diffs);
                        }
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
            var track = await CpuAsync(async () =>
            {
                await AllAsync(sockets, "/presence/track", room);
                await Eventually.HoldsAsync(() => Task.FromResult(joinsSeen.All(n => n == Sockets)), "every socket sent every join");
            });

            var ratio = track / join;
            output.WriteLine($"{Sockets} sockets at once, warm, embedded: a join {Micros(join)} µs CPU, a track {Micros(track)} µs CPU with its diffs to every member ({ratio:F2}× a join); {diffs} diffs to each member for {Sockets} tracks");
            Assert.True(diffs <= 20, $"{diffs} diffs for {Sockets} tracks at once: not batched");
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
