using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Orleans.Rooms.Sockets;

/// <summary>The client's side of the hub's handshake, for the connections this front end makes to its own hub over in-memory pipes.</summary>
internal static class HubHandshake
{
    /// <summary>Writes the handshake request for <paramref name="protocol"/> and reads the hub's answer; throws, naming <paramref name="who"/>, when the hub refuses or closes.</summary>
    public static async Task RunAsync(PipeWriter toHub, PipeReader fromHub, IHubProtocol protocol, string who, CancellationToken cancellationToken)
    {
        HandshakeProtocol.WriteRequestMessage(new HandshakeRequestMessage(protocol.Name, protocol.Version), toHub);
        await toHub.FlushAsync(cancellationToken);
        while (true)
        {
            var result = await fromHub.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (HandshakeProtocol.TryParseResponseMessage(ref buffer, out var response))
            {
                fromHub.AdvanceTo(buffer.Start);
                if (response.Error is { } error)
                {
                    throw new InvalidOperationException($"The hub refused the {who}'s handshake: {error}");
                }

                return;
            }

            fromHub.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new ConnectionAbortedException($"The hub closed the {who} during its handshake.");
            }
        }
    }
}
