using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// Sails' own wire when a front end stops gracefully: its socket.io connections are closed, their sockets held and
/// drained, and a client that reconnects with its <c>pid</c> and <c>offset</c> (as socket.io-client 4.6+ does, through
/// the balancer, to another front end) gets the same socket there, with its rooms and the events it missed.
/// </summary>
public sealed class SocketIoDrainTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task AStoppingFrontEndHandsItsSocketIoSocketsToTheOneTheClientRecoversOn()
    {
        var clusterId = "sio-drain-" + Guid.NewGuid().ToString("N")[..8];
        await using var silo = await FrontEndServer.StartAsync(clusterId);
        var stopping = await FrontEndServer.StartAsync(clusterId, gateways: [silo.GatewayPort]);
        await using var next = await FrontEndServer.StartAsync(clusterId, gateways: [silo.GatewayPort]);
        await using var sender = await silo.ConnectAsync();
        var room = Unique.Room();

        using var first = await RawSocketIo.OpenAsync(stopping.BaseAddress, "40");
        var connect = JsonDocument.Parse(first.Connect[2..]).RootElement;
        var (sid, pid) = (connect.GetProperty("sid").GetString()!, connect.GetProperty("pid").GetString()!);
        await first.SendAsync($"421[\"post\",{{\"url\":\"/joinFunRoom\",\"data\":{{\"roomName\":\"{room}\"}}}}]");
        Assert.StartsWith("431[{\"statusCode\":200", await first.NextAsync());
        await Broadcast(sender, room, 1);
        var (_, offset) = Event(await first.NextAsync());

        var stop = stopping.DisposeAsync().AsTask();
        Assert.Null(await first.NextAsync()); // closed by the stopping front end
        await Broadcast(sender, room, 2);

        using var second = await RawSocketIo.OpenAsync(next.BaseAddress, $"40{{\"pid\":\"{pid}\",\"offset\":\"{offset}\"}}");
        Assert.Equal($"40{{\"sid\":\"{sid}\",\"pid\":\"{pid}\"}}", second.Connect);
        Assert.Equal(2, Event(await second.NextAsync()).N);
        await stop;
        await Broadcast(sender, room, 3);
        Assert.Equal(3, Event(await second.NextAsync()).N);
        Assert.Equal([sid], (await sender.RequestAsync("GET", "/funRoomSubscribers", new { roomName = room })).Strings);
    }

    private static async Task Broadcast(TestSocket sender, string room, int n)
        => Assert.Equal(200, (await sender.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = "tick", data = new { n } })).StatusCode);

    /// <summary>An event <c>42["tick",{"n":..},"offset"]</c>: its number and offset.</summary>
    private static (int N, string Offset) Event(string? packet)
    {
        Assert.NotNull(packet);
        Assert.StartsWith("42[", packet);
        var array = JsonDocument.Parse(packet[2..]).RootElement;
        Assert.Equal(3, array.GetArrayLength());
        Assert.Equal("tick", array[0].GetString());
        return (array[1].GetProperty("n").GetInt32(), array[2].GetString()!);
    }

    /// <summary>A raw Engine.IO 4 / Socket.IO 5 client past its handshake and CONNECT, answering pings.</summary>
    private sealed class RawSocketIo : IDisposable
    {
        private readonly ClientWebSocket _ws = new();
        private readonly byte[] _buffer = new byte[64 * 1024];

        public string Connect { get; private set; } = string.Empty;

        public static async Task<RawSocketIo> OpenAsync(Uri server, string connect)
        {
            var client = new RawSocketIo();
            using var timeout = new CancellationTokenSource(Bound);
            await client._ws.ConnectAsync(new Uri($"ws://{server.Authority}/socket.io/?EIO=4&transport=websocket"), timeout.Token);
            Assert.StartsWith("0{", await client.NextAsync());
            await client.SendAsync(connect);
            client.Connect = await client.NextAsync() ?? throw new InvalidOperationException("closed before its CONNECT answer");
            return client;
        }

        public Task SendAsync(string packet)
            => _ws.SendAsync(Encoding.UTF8.GetBytes(packet), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        /// <summary>The next packet but pings (answered); null once the server closed the connection.</summary>
        public async Task<string?> NextAsync()
        {
            using var timeout = new CancellationTokenSource(Bound);
            while (true)
            {
                var count = 0;
                ValueWebSocketReceiveResult result;
                try
                {
                    do
                    {
                        result = await _ws.ReceiveAsync(_buffer.AsMemory(count), timeout.Token);
                        count += result.Count;
                    }
                    while (!result.EndOfMessage);
                }
                catch (WebSocketException)
                {
                    return null;
                }

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                var text = Encoding.UTF8.GetString(_buffer, 0, count);
                if (text != "2")
                {
                    return text;
                }

                await SendAsync("3");
            }
        }

        public void Dispose() => _ws.Dispose();
    }
}
