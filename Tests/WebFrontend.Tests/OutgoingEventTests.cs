using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// A resumable socket's <c>rooms.event</c> is framed by hand for SignalR's JSON protocol (one copy of the payload per
/// socket, no serializer): it must say what the protocol itself would write, whatever the name and the payload hold.
/// </summary>
public sealed class OutgoingEventTests
{
    private static readonly JsonHubProtocol Json = new(Options.Create(new JsonHubProtocolOptions()));

    [Theory]
    [InlineData("tick", """{"n":1,"s":"x"}""", 1L)]
    [InlineData("quote\"back\\slash", "\"a string\"", 42L)]
    [InlineData("naïve ünïcödé \u2028 \u0001", "[1,2,{\"a\":null}]", long.MaxValue)]
    [InlineData("</script>", "12.5", 0L)]
    public void TheFramedEventIsWhatTheJsonProtocolWrites(string eventName, string payload, long seq)
    {
        var outgoing = new OutgoingEvent(eventName, Encoding.UTF8.GetBytes(payload), Guid.NewGuid());
        foreach (var withId in new[] { false, true })
        {
            var framed = outgoing.Sequenced(seq, withId, OutgoingEvent.JsonProtocol).GetSerializedMessage(Json);
            var written = new SerializedHubMessage(new InvocationMessage(OutgoingEvent.SequencedMethod, withId
                ? [seq, eventName, JsonDocument.Parse(payload).RootElement, outgoing.BroadcastId.ToString("N")]
                : [seq, eventName, JsonDocument.Parse(payload).RootElement])).GetSerializedMessage(Json);

            Assert.Equal(0x1e, framed.Span[^1]);
            Assert.True(
                JsonElement.DeepEquals(Parse(framed), Parse(written)),
                $"framed {Encoding.UTF8.GetString(framed.Span)} against written {Encoding.UTF8.GetString(written.Span)}");
            Assert.True(Json.TryParseMessage(ref Sequence(framed), new Binder(withId), out var parsed));
            var invocation = Assert.IsType<InvocationMessage>(parsed);
            Assert.Equal(OutgoingEvent.SequencedMethod, invocation.Target);
            Assert.Equal(seq, invocation.Arguments[0]);
            Assert.Equal(eventName, invocation.Arguments[1]);
        }
    }

    [Fact]
    public void AnotherProtocolGetsTheMessageItself()
    {
        var outgoing = new OutgoingEvent("tick", "1"u8.ToArray(), Guid.NewGuid());

        var message = outgoing.Sequenced(7, withId: true, "rooms-socket.io");

        var invocation = Assert.IsType<InvocationMessage>(message.Message);
        Assert.Equal([7L, "tick"], invocation.Arguments.Take(2));
    }

    private static JsonElement Parse(ReadOnlyMemory<byte> message) => JsonDocument.Parse(message[..^1]).RootElement;

    private static ref ReadOnlySequence<byte> Sequence(ReadOnlyMemory<byte> message)
    {
        var box = new ReadOnlySequence<byte>[] { new(message) };
        return ref box[0];
    }

    private sealed class Binder(bool withId) : IInvocationBinder
    {
        public IReadOnlyList<Type> GetParameterTypes(string methodName)
            => withId ? [typeof(long), typeof(string), typeof(JsonElement), typeof(string)] : [typeof(long), typeof(string), typeof(JsonElement)];

        public Type GetReturnType(string invocationId) => typeof(object);

        public Type GetStreamItemType(string streamId) => typeof(object);
    }
}
