using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.SocketIo;

/// <summary>
/// The hub protocol of the connections <see cref="SocketIoConnection"/> makes: what the hub writes comes out as
/// Engine.IO message packets that carry Socket.IO packets, ready for the WebSocket, each ended by a record
/// separator (0x1E, which JSON text never holds unescaped): an event is <c>42["event",payload]</c> (the payload
/// bytes as they came: a broadcast is serialized once for every socket.io socket of this front end), the answer to
/// a virtual request <c>43&lt;ack id&gt;[jwr]</c>. A socket with connection-state recovery (a resumable socket,
/// <see cref="ResumableSocket"/>) is told its socket id and pid in the <c>CONNECT</c> answer,
/// <c>40{"sid","pid"}</c> (from <c>rooms.attached</c>), and gets its events as <c>42["event",payload,"offset"]</c>
/// (from <c>rooms.event</c>: the offset is the event's number). What the hub reads is SignalR's JSON protocol, which the
/// connection writes from the Socket.IO packets it received.
/// </summary>
/// <remarks>
/// SignalR's own pings and close message have no Socket.IO form and are written as nothing: Engine.IO's ping and
/// pong keep the connection (<see cref="SocketIoConnection"/>), and a close is the WebSocket's close.
/// </remarks>
internal sealed class SocketIoHubProtocol(IOptions<JsonHubProtocolOptions> json) : IHubProtocol
{
    public const string ProtocolName = "rooms-socket.io";

    public const int ProtocolVersion = 5;

    public const byte Separator = 0x1E;

    private readonly JsonHubProtocol _reader = new(json);
    private readonly JsonSerializerOptions _payload = json.Value.PayloadSerializerOptions;

    public string Name => ProtocolName;

    public int Version => ProtocolVersion;

    public TransferFormat TransferFormat => TransferFormat.Text;

    public bool IsVersionSupported(int version) => version == ProtocolVersion;

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
        => _reader.TryParseMessage(ref input, binder, out message);

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output)
    {
        switch (message)
        {
            case InvocationMessage { Target: ResumableSocket.AttachedMethod, Arguments: [ResumableSocket.Attached attached] }:
                // A socket.io socket with connection-state recovery: the CONNECT answer names its pid too.
                output.Write("40"u8);
                using (var writer = new Utf8JsonWriter(output))
                {
                    writer.WriteStartObject();
                    writer.WriteString("sid"u8, attached.SocketId);
                    writer.WriteString("pid"u8, attached.ResumeToken);
                    writer.WriteEndObject();
                }

                break;
            case InvocationMessage { Target: OutgoingEvent.SequencedMethod, Arguments: [long seq, string name, var payload, ..] }:
                // Its events carry their offset as their last argument, which the client presents when it recovers.
                output.Write("42"u8);
                WriteArray(output, name, [payload], seq.ToString(CultureInfo.InvariantCulture));
                break;
            case InvocationMessage { Target: ResumableSocket.MoveMethod }:
                return; // its connection closes next, and the client reconnects (through the balancer) with its pid
            case InvocationMessage invocation:
                output.Write("42"u8);
                WriteArray(output, invocation.Target, invocation.Arguments);
                break;
            case CompletionMessage completion when completion.InvocationId is { } id:
                output.Write("43"u8);
                output.Write(System.Text.Encoding.ASCII.GetBytes(id));
                if (completion.Error is { } error)
                {
                    WriteArray(output, null, [VirtualRequests.SocketResponse.Error(StatusCodes.Status500InternalServerError, error)]);
                }
                else
                {
                    WriteArray(output, null, completion.HasResult ? [completion.Result] : []);
                }

                break;
            default:
                return; // pings, close, streams: nothing on this wire
        }

        output.Write([Separator]);
    }

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message)
    {
        var output = new ArrayBufferWriter<byte>(256);
        WriteMessage(message, output);
        return output.WrittenMemory;
    }

    private void WriteArray(IBufferWriter<byte> output, string? name, object?[] arguments, string? offset = null)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        writer.WriteStartArray();
        if (name is not null)
        {
            writer.WriteStringValue(name);
        }

        foreach (var argument in arguments)
        {
            JsonSerializer.Serialize(writer, argument, argument?.GetType() ?? typeof(object), _payload);
        }

        if (offset is not null)
        {
            writer.WriteStringValue(offset);
        }

        writer.WriteEndArray();
    }
}
