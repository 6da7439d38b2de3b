using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.WebFrontend.Tests.Clients;

/// <summary>
/// Sails' own wire (Engine.IO 4 / Socket.IO 5 at <c>/socket.io</c>): the real sails.io.js 1.2.1 and socket.io-client
/// 4.8 from npm (clients/sails-wire-tests, driven by test/sails-wire.test.mjs in node) against two front ends of one
/// cluster, and a fuzz of malformed packets over a raw WebSocket.
/// </summary>
public sealed class SailsWireTests(SailsWireTests.PairFixture fixture, ITestOutputHelper output) : IClassFixture<SailsWireTests.PairFixture>
{
    private const int FuzzPackets = 400;
    private const string SeedVariable = "ROOMS_SOCKETIO_FUZZ_SEED";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task SailsIoJsAndSocketIoClientWorkAgainstTwoRealFrontEnds()
    {
        await Node.EnsurePackagesAsync(Node.SailsWireFolder, "sails.io.js", "socket.io-client", "@microsoft/signalr", "ws");

        var (exitCode, text) = await Node.RunAsync(
            "node",
            ["--test", "--test-reporter=spec", "test/sails-wire.test.mjs"],
            new Dictionary<string, string>
            {
                ["ROOMS_URL"] = fixture.A.BaseAddress.ToString(),
                ["ROOMS_URL_B"] = fixture.B.BaseAddress.ToString(),
                ["ROOMS_ADMIN_KEY"] = FrontEndServer.AdminKey,
                ["ROOMS_RESUME_WINDOW_MS"] = "3000",
                ["ROOMS_RESUME_BUFFER_MAX_BYTES"] = "4096",
            },
            TimeSpan.FromSeconds(90),
            Node.SailsWireFolder);

        output.WriteLine(text);
        Assert.True(exitCode == 0, $"node --test test/sails-wire.test.mjs exited with {exitCode}:\n{text}");
        Assert.Contains("ℹ pass 12", text);
        Assert.Contains("ℹ fail 0", text);
    }

    /// <summary>
    /// Mutated packets (cut, spliced, odd bytes, wrong types, deep nesting), each followed by a probe request on the
    /// same connection: every one is answered, by the probe's JWR (the connection serves on) or by a close frame
    /// (never a dropped connection with no word), and the front end holds no socket of them afterwards.
    /// </summary>
    [Fact]
    public async Task MalformedPacketsAreAnsweredAndLeaveNoSocketBehind()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), out var given) ? given : Random.Shared.Next();
        output.WriteLine($"seed {seed} ({SeedVariable})");
        var random = new Random(seed);
        var sockets = fixture.A.Services.GetRequiredService<LocalSockets>();
        var before = sockets.Ids().ToHashSet(StringComparer.Ordinal);
        int served = 0, closed = 0, connections = 0;
        Connection? connection = null;
        for (var i = 0; i < FuzzPackets; i++)
        {
            var current = connection ??= await Connection.OpenAsync(fixture.A.BaseAddress);
            connections += current.Fresh ? 1 : 0;
            current.Fresh = false;
            var packet = Mutate(random);
            var probe = 100_000 + i;
            (WebSocketCloseStatus? Status, string? Reason)? close;
            try
            {
                await current.SendAsync(packet);
                await current.SendAsync(Encoding.UTF8.GetBytes($"42{probe}[\"get\",{{\"url\":\"/socketId\"}}]"));
                close = await current.AnswerOrCloseAsync(probe);
            }
            catch (WebSocketException)
            {
                close = (current.CloseStatus, null); // the server closed before the probe went out (its close frame read or not)
            }

            if (close is { } ended)
            {
                Assert.True(ended.Status is not null, $"seed {seed}: packet {Show(packet)} dropped the connection with no close frame");
                closed++;
                current.Dispose();
                connection = null;
            }
            else
            {
                served++;
            }
        }

        connection?.Dispose();
        // Those the fuzz left by a close or a refused packet end at once; the last, dropped with no close, once the resume window passes.
        await Eventually.HoldsAsync(() => Task.FromResult(sockets.Ids().All(before.Contains)), $"the fuzzed sockets unregistered ({before.Count} held before)", Bound);
        var summary = $"{FuzzPackets} malformed socket.io packets over {connections} connections: {served} answered with the connection serving on, {closed} with a close frame (seed {seed})";
        output.WriteLine(summary);
        CiSummary.Write("socketio-fuzz", summary);
    }

    private static readonly string[] Bases =
    [
        "40", "41", "42[\"get\",{\"url\":\"/socketId\"}]", "421[\"post\",{\"url\":\"/joinFunRoom\",\"data\":{\"roomName\":\"fuzz\"}}]",
        "422[\"put\",{\"url\":\"/leaveFunRoom\",\"data\":{\"roomName\":\"fuzz\"},\"headers\":{\"x-a\":\"b\"}}]", "43[]", "2", "3", "6", "5",
        "42/admin,[\"get\",{}]", "40{\"token\":1}", "423[\"delete\",{\"url\":\"/socketRooms\"}]", "424[\"patch\",{}]",
    ];

    private static readonly string[] Odd =
    [
        "", "\u0000", "\u001e", "\\ud800", "\ud83d\ude00", "[", "]", "{", "}", "\"", ",", "-", "/", "99999999999999999999", "null", "[[[[[[[[[[",
        "\"method\":\"OPTIONS\"", "\"url\":\"//evil.example\"", "\"url\":9", "\"headers\":[1]", "\"data\":\"\\u0000\"",
    ];

    private static byte[] Mutate(Random random)
    {
        var text = Bases[random.Next(Bases.Length)];
        switch (random.Next(6))
        {
            case 0:
                text = text[..random.Next(text.Length + 1)];
                break;
            case 1:
                text = text.Insert(random.Next(text.Length + 1), Odd[random.Next(Odd.Length)]);
                break;
            case 2:
                text = random.Next(7) + text[Math.Min(1, text.Length)..];
                break;
            case 3:
                text = "4" + random.Next(10) + new string('[', random.Next(1, 200)) + "\"get\"";
                break;
            case 4:
                var bytes = Encoding.UTF8.GetBytes(text);
                if (bytes.Length > 0)
                {
                    // Any ASCII byte: text that is not UTF-8 is the WebSocket layer's to refuse (RFC 6455, 8.1), before any packet.
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(128);
                }

                return bytes;
        }

        return Encoding.UTF8.GetBytes(text);
    }

    [Fact]
    public async Task ATrackSentWithoutAnAckGetsItsStateAtOnceNotWithTheNextPacket()
    {
        // sails.io.js sends a request with no callback without an ack id: no answer follows to carry the state out
        // (SocketReply), so it is flushed by itself. Nothing else is written to this socket after it (the diff of its
        // own join is not sent to it: its state has it), so a state left for the next packet never comes.
        await using var server = await FrontEndServer.StartAsync("sails-presence-" + Guid.NewGuid().ToString("N")[..8], settings: new Dictionary<string, string?>
        {
            ["Rooms:Presence:DiffDelay"] = "00:00:01",
        });
        using var connection = await Connection.OpenAsync(server.BaseAddress);
        var room = "sails-presence-" + Guid.NewGuid().ToString("N")[..8];

        await connection.SendAsync(Encoding.UTF8.GetBytes($$$"""42["post",{"url":"/presence/track","data":{"roomName":"{{{room}}}","key":"gail"}}]"""));

        var state = await connection.NextEventAsync(); // within 10 s: before the server's first ping (25 s) could carry it
        Assert.StartsWith("42[\"presence_state\"", state, StringComparison.Ordinal);
        Assert.Contains(room, state, StringComparison.Ordinal);
    }

    private static string Show(byte[] packet) => Convert.ToHexString(packet.AsSpan(0, Math.Min(packet.Length, 64)));

    /// <summary>A raw WebSocket past the Engine.IO and Socket.IO handshakes, answering pings.</summary>
    private sealed class Connection : IDisposable
    {
        private readonly ClientWebSocket _ws = new();
        private readonly byte[] _buffer = new byte[64 * 1024];

        public WebSocketCloseStatus? CloseStatus => _ws.CloseStatus;

        public bool Fresh { get; set; } = true;

        public static async Task<Connection> OpenAsync(Uri server)
        {
            var connection = new Connection();
            using var timeout = new CancellationTokenSource(Bound);
            await connection._ws.ConnectAsync(new Uri($"ws://{server.Authority}/socket.io/?EIO=4&transport=websocket"), timeout.Token);
            Assert.StartsWith("0{", await connection.ReceiveAsync(timeout.Token));
            await connection.SendAsync("40"u8.ToArray());
            Assert.StartsWith("40{\"sid\":", await connection.ReceiveAsync(timeout.Token));
            return connection;
        }

        public Task SendAsync(byte[] packet)
            => _ws.SendAsync(packet, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        /// <summary>Null once the probe's answer came; the close's status (null: no close frame) when the connection ended first.</summary>
        public async Task<(WebSocketCloseStatus? Status, string? Reason)?> AnswerOrCloseAsync(int probe)
        {
            using var timeout = new CancellationTokenSource(Bound);
            try
            {
                while (true)
                {
                    var message = await ReceiveAsync(timeout.Token);
                    if (message is null)
                    {
                        return (_ws.CloseStatus, _ws.CloseStatusDescription);
                    }

                    if (message.StartsWith($"43{probe}[", StringComparison.Ordinal))
                    {
                        return null;
                    }
                }
            }
            catch (WebSocketException)
            {
                return (_ws.CloseStatus, _ws.CloseStatusDescription);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Neither the probe {probe}'s answer nor a close within {Bound}.");
            }
        }

        /// <summary>The next packet but pings, within the bound.</summary>
        public async Task<string> NextEventAsync()
        {
            using var timeout = new CancellationTokenSource(Bound);
            return await ReceiveAsync(timeout.Token) ?? throw new WebSocketException("The server closed the connection.");
        }

        /// <summary>The next text message but pings (answered); null when the server closed.</summary>
        private async Task<string?> ReceiveAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _ws.ReceiveAsync(_buffer.AsMemory(count), cancellationToken);
                    count += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                var text = Encoding.UTF8.GetString(_buffer, 0, count);
                if (text == "2")
                {
                    await SendAsync("3"u8.ToArray());
                    continue;
                }

                return text;
            }
        }

        public void Dispose() => _ws.Dispose();
    }

    /// <summary>Two front ends of one cluster (A embedded, B a client of A's silo), pinging fast enough to test in seconds.</summary>
    public sealed class PairFixture : IAsyncLifetime
    {
        private static readonly Dictionary<string, string?> Settings = new()
        {
            ["Rooms:SocketIo:PingInterval"] = "00:00:00.5",
            ["Rooms:SocketIo:PingTimeout"] = "00:00:03",

            // Short enough to test past the window, and a buffer one large event overflows.
            ["Rooms:ResumeWindow"] = "00:00:03",
            ["Rooms:ResumeBufferMaxBytes"] = "4096",
        };

        public FrontEndServer A { get; private set; } = null!;

        public FrontEndServer B { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var clusterId = "sails-" + Guid.NewGuid().ToString("N")[..8];
            A = await FrontEndServer.StartAsync(clusterId, settings: Settings);
            B = await FrontEndServer.StartAsync(clusterId, gateways: [A.GatewayPort], settings: Settings);
        }

        public async Task DisposeAsync()
        {
            await B.DisposeAsync();
            await A.DisposeAsync();
        }
    }
}
