namespace Orleans.Rooms.SocketIo;

/// <summary>
/// A Socket.IO 5 packet as the default parser encodes it (socket.io-protocol, "Packet encoding"):
/// <c>&lt;type&gt;[&lt;namespace&gt;,][&lt;ack id&gt;][JSON payload]</c>; binary attachments are not served.
/// </summary>
internal readonly record struct SocketIoPacket(int Type, ReadOnlyMemory<byte> Namespace, ReadOnlyMemory<byte> AckId, ReadOnlyMemory<byte> Data)
{
    public const int Connect = 0;
    public const int Disconnect = 1;
    public const int Event = 2;
    public const int Ack = 3;
    public const int ConnectError = 4;

    /// <summary>Ack ids are JavaScript integers; more digits than this is not one.</summary>
    private const int MaxAckDigits = 15;

    public bool IsDefaultNamespace => Namespace.IsEmpty || Namespace.Span.SequenceEqual("/"u8);

    /// <summary>Reads a packet; false with what is wrong, in words for the client, when it is not one this server takes.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> packet, out SocketIoPacket parsed, out string? error)
    {
        parsed = default;
        var span = packet.Span;
        if (span.IsEmpty || span[0] is < (byte)'0' or > (byte)'6')
        {
            error = "Not a Socket.IO 5 packet: it starts with its type, a digit from 0 to 6.";
            return false;
        }

        var type = span[0] - '0';
        if (type > ConnectError)
        {
            error = "Binary packets (attachments) are not served: send JSON only.";
            return false;
        }

        var at = 1;
        var ns = ReadOnlyMemory<byte>.Empty;
        if (at < span.Length && span[at] == (byte)'/')
        {
            var comma = span[at..].IndexOf((byte)',');
            var end = comma < 0 ? span.Length : at + comma;
            ns = packet[at..end];
            at = comma < 0 ? end : end + 1;
        }

        var digits = at;
        while (at < span.Length && span[at] is >= (byte)'0' and <= (byte)'9')
        {
            at++;
        }

        if (at - digits > MaxAckDigits)
        {
            error = $"An ack id of more than {MaxAckDigits} digits.";
            return false;
        }

        parsed = new SocketIoPacket(type, ns, packet[digits..at], packet[at..]);
        error = null;
        return true;
    }

    /// <summary>True when <paramref name="json"/> is one JSON object.</summary>
    public static bool IsJsonObject(ReadOnlyMemory<byte> json)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}
