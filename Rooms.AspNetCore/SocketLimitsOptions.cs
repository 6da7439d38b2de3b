namespace Orleans.Rooms;

/// <summary>
/// What one client may ask of a front end, bound from <c>Rooms:Limits</c>. The defaults leave room for the
/// benchmark harness (50 sockets looping join/leave as fast as answers come, 500 sockets in one room, 1,000
/// sockets joining 10 rooms each, all from 127.0.0.1) and stop a single socket or address from taking a
/// front end down.
/// </summary>
public sealed class SocketLimitsOptions : ISelfValidatingOptions
{
    /// <summary>The configuration section these settings are bound from: <c>Rooms:Limits</c>.</summary>
    public const string SectionName = "Rooms:Limits";

    /// <summary>Virtual requests one socket may send per second (token bucket, that many at once); over: 429.</summary>
    public int RequestsPerSecondPerSocket { get; set; } = 1000;

    /// <summary>Hub invocations of one socket that run at once; more wait for a free slot (SignalR's <c>MaximumParallelInvocationsPerClient</c>).</summary>
    public int MaxParallelRequestsPerSocket { get; set; } = 1;

    /// <summary>Open hub requests (WebSocket connections, negotiations, polls) from one IP address; over: 429.</summary>
    public int MaxConnectionsPerIp { get; set; } = 2000;

    /// <summary>Rooms one request may name in a list (<c>roomName</c> of a broadcast, <c>destRooms</c>); over: 400.</summary>
    public int MaxRoomsPerList { get; set; } = 100;

    /// <summary>Bytes of <c>data</c> one broadcast or blast may carry, as UTF-8 JSON; over: 413.</summary>
    public int MaxBroadcastPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>Messages queued for one plain socket before it counts as too slow and is disconnected.</summary>
    public int MaxPendingMessagesPerSocket { get; set; } = 1000;

    /// <summary>Bytes of events queued for one socket before it counts as too slow and is disconnected.</summary>
    public long MaxPendingBytesPerSocket { get; set; } = 8 * 1024 * 1024;

    /// <summary>Bytes the response to one virtual request may have; over: 500 saying so, nothing sent.</summary>
    public int MaxResponseBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Most rooms one page of <c>GET /rooms</c> may ask for (<c>limit</c>); over: 400.</summary>
    public int MaxRoomsPageSize { get; set; } = Membership.RoomPage.MaxLimit;

    /// <summary>How long a virtual request may run; then it is cancelled and answered 504.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public string? Validate()
    {
        if (MaxPendingMessagesPerSocket < 1)
        {
            return $"Rooms:Limits:MaxPendingMessagesPerSocket must be at least 1 (was {MaxPendingMessagesPerSocket}).";
        }

        if (RequestsPerSecondPerSocket < 1)
        {
            return $"Rooms:Limits:RequestsPerSecondPerSocket must be at least 1 (was {RequestsPerSecondPerSocket}).";
        }

        if (MaxParallelRequestsPerSocket is < 1 or > 1000)
        {
            return $"Rooms:Limits:MaxParallelRequestsPerSocket must be from 1 to 1000 (was {MaxParallelRequestsPerSocket}).";
        }

        if (MaxConnectionsPerIp < 1)
        {
            return $"Rooms:Limits:MaxConnectionsPerIp must be at least 1 (was {MaxConnectionsPerIp}).";
        }

        if (MaxRoomsPerList < 1)
        {
            return $"Rooms:Limits:MaxRoomsPerList must be at least 1 (was {MaxRoomsPerList}).";
        }

        if (MaxBroadcastPayloadBytes < 4)
        {
            return $"Rooms:Limits:MaxBroadcastPayloadBytes must be at least 4 (was {MaxBroadcastPayloadBytes}).";
        }

        if (MaxPendingBytesPerSocket < MaxBroadcastPayloadBytes)
        {
            return $"Rooms:Limits:MaxPendingBytesPerSocket must be at least Rooms:Limits:MaxBroadcastPayloadBytes ({MaxBroadcastPayloadBytes}) (was {MaxPendingBytesPerSocket}).";
        }

        if (MaxResponseBytes < 1024)
        {
            return $"Rooms:Limits:MaxResponseBytes must be at least 1024 (was {MaxResponseBytes}).";
        }

        if (MaxRoomsPageSize is < 1 or > Membership.RoomPage.MaxLimit)
        {
            return $"Rooms:Limits:MaxRoomsPageSize must be from 1 to {Membership.RoomPage.MaxLimit} (was {MaxRoomsPageSize}).";
        }

        if (RequestTimeout < TimeSpan.FromMilliseconds(100) || RequestTimeout > TimeSpan.FromHours(1))
        {
            return $"Rooms:Limits:RequestTimeout must be from 00:00:00.1 to 01:00:00 (was {RequestTimeout}).";
        }

        return null;
    }
}
