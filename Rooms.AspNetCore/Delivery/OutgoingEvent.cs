using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Orleans.Rooms.Delivery;

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

    private readonly RawJsonPayload _payload = new(payload);
    private SerializedHubMessage? _shared;

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

    /// <summary><c>rooms.event(seq, eventName, payload)</c>; with <paramref name="withId"/> (version 2 of the resume contract), the broadcast id as a fourth argument.</summary>
    public SerializedHubMessage Sequenced(long seq, bool withId)
        => new(new InvocationMessage(SequencedMethod, withId ? [seq, eventName, _payload, broadcastId.ToString("N")] : [seq, eventName, _payload]));
}
