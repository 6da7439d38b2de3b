using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.WebFrontend.ExampleApp;

/// <summary>
/// The example app's warm-up cycle (<see cref="RoomsServiceCollectionExtensions.AddRoomsWarmUp"/>): what its
/// sockets do most, on rooms no client can name (the socket's own id is in the name): join, a broadcast the
/// socket receives itself, now and then the room's subscribers, and leave. Every tenth cycle takes a fresh
/// room, so a room grain is activated as for a new room. It leaves every room it joins.
/// </summary>
internal static class ExampleAppWarmUp
{
    private const string EventName = "warm-up";

    public static async Task CycleAsync(InProcessSocket socket, int cycle, CancellationToken cancellationToken)
    {
        var room = $"warm-up:{socket.Id}:{cycle / 10}";
        Expect(await socket.RequestAsync("POST", "/joinFunRoom", new { roomName = room }, cancellationToken), "/joinFunRoom");
        Expect(await socket.RequestAsync("POST", "/broadcastFunRoom", new { roomName = room, eventName = EventName, data = new { cycle } }, cancellationToken), "/broadcastFunRoom");
        var (received, _) = await socket.ReceiveAsync(cancellationToken);
        if (received != EventName)
        {
            throw new InvalidOperationException($"The warm-up socket received event '{received}' where it expected its own broadcast '{EventName}'.");
        }

        if (cycle % 10 == 0)
        {
            Expect(await socket.RequestAsync("GET", $"/funRoomSubscribers?roomName={Uri.EscapeDataString(room)}", cancellationToken: cancellationToken), "/funRoomSubscribers");
        }

        Expect(await socket.RequestAsync("POST", "/leaveFunRoom", new { roomName = room }, cancellationToken), "/leaveFunRoom");
    }

    private static void Expect(VirtualRequests.SocketResponse response, string route)
    {
        if (response.StatusCode != StatusCodes.Status200OK)
        {
            throw new InvalidOperationException($"The warm-up's {route} answered {response.StatusCode} where the app answers 200.");
        }
    }
}
