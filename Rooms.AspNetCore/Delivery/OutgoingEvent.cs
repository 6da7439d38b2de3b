using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Orleans.Rooms.Delivery;

/// <summary>
/// One event on its way to this front end's sockets. A plain socket gets client method <c>eventName</c> with the
/// payload (one hub message shared by all of them, serialized once per protocol); a resumable socket gets
/// <c>rooms.event(seq, eventName, payload)</c> with its own sequence number, so one message per socket.
/// Either way the payload bytes are written as they came. <paramref name="broadcastId"/> names the broadcast it
/// belongs to (<see cref="DeliveryBatch.Id"/>), so a socket that two front ends hold while it moves gets it once.
/// </summary>
internal sealed class OutgoingEvent(string eventName, byte[] payload, Guid broadcastId)
{
    public const string SequencedMethod = "rooms.event";

    /// <summary>What an event is counted as in a resume buffer: payload, name and the frame around them.</summary>
    private const int FrameOverhead = 64;

    /// <summary>The name of SignalR's JSON hub protocol, whose framing <see cref="Sequenced"/> writes itself.</summary>
    public const string JsonProtocol = "json";

    private static readonly byte[] SequencedHead = "{\"type\":1,\"target\":\"rooms.event\",\"arguments\":["u8.ToArray();

    private readonly RawJsonPayload _payload = new(payload);
    private SerializedHubMessage? _shared;
    private byte[]? _tail;
    private byte[]? _tailWithId;

    public string EventName => eventName;

    public Guid BroadcastId => broadcastId;

    /// <summary>The event's argument, as UTF-8 JSON.</summary>
    public byte[] Payload => payload;

    public int Size { get; } = payload.Length + (eventName.Length * 3) + FrameOverhead;

    /// <summary>The message for plain sockets, made on first use (read once per target socket: no allocation after that).</summary>
    public SerializedHubMessage Shared => Volatile.Read(ref _shared) ?? CreateShared();

    private SerializedHubMessage CreateShared()
    {
        Interlocked.CompareExchange(ref _shared, new SerializedHubMessage(new InvocationMessage(eventName, [_payload])), null);
        return _shared;
    }

    /// <summary>
    /// <c>rooms.event(seq, eventName, payload)</c>; with <paramref name="withId"/> (version 2 of the resume contract), the
    /// broadcast id as a fourth argument. For SignalR's JSON protocol the message is framed here, not serialized: only
    /// the number differs from one socket to the next, so what follows it is made once per event and each socket's
    /// message is three copies. For any other protocol (Sails' wire) the protocol writes it.
    /// </summary>
    public SerializedHubMessage Sequenced(long seq, bool withId, string protocol)
    {
        if (protocol != JsonProtocol)
        {
            return new(new InvocationMessage(SequencedMethod, withId ? [seq, eventName, _payload, broadcastId.ToString("N")] : [seq, eventName, _payload]));
        }

        var tail = withId ? Volatile.Read(ref _tailWithId) ?? (_tailWithId = Tail(withId: true)) : Volatile.Read(ref _tail) ?? (_tail = Tail(withId: false));
        Span<byte> number = stackalloc byte[20];
        Utf8Formatter.TryFormat(seq, number, out var digits);
        var frame = new byte[SequencedHead.Length + digits + tail.Length];
        SequencedHead.CopyTo(frame, 0);
        number[..digits].CopyTo(frame.AsSpan(SequencedHead.Length));
        tail.CopyTo(frame, SequencedHead.Length + digits);
        return new([new SerializedMessage(JsonProtocol, frame)]);
    }

    /// <summary>What follows the number in a JSON <c>rooms.event</c> message: the name, the payload, the id, the record separator.</summary>
    private byte[] Tail(bool withId)
    {
        var name = JsonEncodedText.Encode(eventName).EncodedUtf8Bytes;
        var id = withId ? Encoding.ASCII.GetBytes(broadcastId.ToString("N")) : [];
        var tail = new byte[2 + name.Length + 2 + payload.Length + (withId ? 3 + id.Length : 0) + 3];
        var at = 0;
        void Put(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(tail.AsSpan(at));
            at += bytes.Length;
        }

        Put(",\""u8);
        Put(name);
        Put("\","u8);
        Put(payload);
        if (withId)
        {
            Put(",\""u8);
            Put(id);
            Put("\""u8);
        }

        Put("]}\u001e"u8);
        return tail;
    }
}
