namespace Orleans.Rooms;

/// <summary>
/// Settings of Sails' own wire (Engine.IO 4 / Socket.IO 5 over WebSocket, <c>MapRoomsSocketIo</c>), bound from
/// <c>Rooms:SocketIo</c>. The defaults are those of a socket.io 4 server, which sails-hook-sockets 3 runs.
/// </summary>
public sealed class SocketIoOptions : ISelfValidatingOptions
{
    /// <summary>The configuration section these settings are bound from.</summary>
    public const string SectionName = "Rooms:SocketIo";

    /// <summary>How often the server pings a client (Engine.IO <c>pingInterval</c>, sent in the handshake).</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>How long a client has to answer a ping before its connection is closed (Engine.IO <c>pingTimeout</c>).</summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a new connection may take to send its Socket.IO <c>CONNECT</c> before it is closed (socket.io's <c>connectTimeout</c>).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>
    /// socket.io 4.6+'s connection-state recovery (on by default; socket.io's <c>connectionStateRecovery</c>): the
    /// <c>CONNECT</c> answer names a <c>pid</c>, each event carries its offset as its last argument, and a client that
    /// reconnects with them within <c>Rooms:ResumeWindow</c> gets the same socket back, with its rooms and the events
    /// it missed (<c>socket.recovered</c>), on any front end. Off: every connection is a fresh socket, events carry
    /// their payload only.
    /// </summary>
    public bool ConnectionStateRecovery { get; set; } = true;

    /// <inheritdoc />
    public string? Validate()
    {
        if (PingInterval < TimeSpan.FromMilliseconds(50) || PingInterval > TimeSpan.FromMinutes(10))
        {
            return $"Rooms:SocketIo:PingInterval must be from 00:00:00.05 to 00:10:00 (was {PingInterval}).";
        }

        if (PingTimeout < TimeSpan.FromMilliseconds(50) || PingTimeout > TimeSpan.FromMinutes(10))
        {
            return $"Rooms:SocketIo:PingTimeout must be from 00:00:00.05 to 00:10:00 (was {PingTimeout}).";
        }

        if (ConnectTimeout < TimeSpan.FromMilliseconds(100) || ConnectTimeout > TimeSpan.FromMinutes(10))
        {
            return $"Rooms:SocketIo:ConnectTimeout must be from 00:00:00.1 to 00:10:00 (was {ConnectTimeout}).";
        }

        return null;
    }
}
