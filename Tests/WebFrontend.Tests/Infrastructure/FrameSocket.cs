using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// A SignalR JSON-protocol client written on a bare TCP connection, frame by frame (RFC 6455): what the server
/// puts on the wire is seen as the frames it sent, which a WebSocket client joins back into messages.
/// </summary>
public sealed class FrameSocket : IAsyncDisposable
{
    private const char Separator = '\u001e';
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private FrameSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<FrameSocket> ConnectAsync(Uri baseAddress)
    {
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        var tcp = new TcpClient();
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port, timeout.Token);
        var socket = new FrameSocket(tcp);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var upgrade = $"GET /sockets HTTP/1.1\r\nHost: {baseAddress.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await socket._stream.WriteAsync(Encoding.ASCII.GetBytes(upgrade), timeout.Token);
        var head = await socket.ReadHeadAsync(timeout.Token);
        if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The upgrade was refused: {head}");
        }

        await socket.SendAsync("""{"protocol":"json","version":1}""");
        var handshake = await socket.ReadFrameAsync();
        if (handshake.Text != "{}" + Separator)
        {
            throw new InvalidOperationException($"Handshake refused: {handshake.Text}");
        }

        return socket;
    }

    /// <summary>Sends one SignalR message (the record separator added) as one masked text frame, as a client must.</summary>
    public async Task SendAsync(string message)
    {
        var payload = Encoding.UTF8.GetBytes(message + Separator);
        var header = new List<byte> { 0x81 };
        if (payload.Length < 126)
        {
            header.Add((byte)(0x80 | payload.Length));
        }
        else
        {
            header.Add(0x80 | 126);
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }

        var mask = RandomNumberGenerator.GetBytes(4);
        header.AddRange(mask);
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] ^= mask[i % 4];
        }

        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        await _stream.WriteAsync(header.Concat(payload).ToArray(), timeout.Token);
    }

    /// <summary>The next frame the server sent: whether it ends a message, and its payload as text.</summary>
    public async Task<(bool Final, string Text)> ReadFrameAsync()
    {
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        var head = new byte[2];
        await _stream.ReadExactlyAsync(head, timeout.Token);
        long length = head[1] & 0x7F;
        if (length >= 126)
        {
            var extended = new byte[length == 126 ? 2 : 8];
            await _stream.ReadExactlyAsync(extended, timeout.Token);
            length = length == 126 ? BinaryPrimitives.ReadUInt16BigEndian(extended) : (long)BinaryPrimitives.ReadUInt64BigEndian(extended);
        }

        var payload = new byte[length];
        await _stream.ReadExactlyAsync(payload, timeout.Token);
        return ((head[0] & 0x80) != 0, Encoding.UTF8.GetString(payload));
    }

    /// <summary>Reads frames until one whose text matches, at most 100 (pings and other messages come between).</summary>
    public async Task<(bool Final, string Text)> ReadUntilAsync(Func<string, bool> match)
    {
        for (var i = 0; i < 100; i++)
        {
            var frame = await ReadFrameAsync();
            if (match(frame.Text))
            {
                return frame;
            }
        }

        throw new InvalidOperationException("No matching frame among 100.");
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<string> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && head.Length < 8192)
        {
            await _stream.ReadExactlyAsync(one, cancellationToken);
            head.Append((char)one[0]);
        }

        return head.ToString();
    }
}
