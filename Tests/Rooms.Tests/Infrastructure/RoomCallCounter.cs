using System.Collections.Concurrent;
using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Tests.Infrastructure;

/// <summary>
/// Counts, per room, the front ends listed in and delisted from its grain, per socket the times its grain was
/// asked where the socket is, and per grain key every call (calls reaching any silo of the test cluster).
/// </summary>
public sealed class RoomCallCounter : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, int> s_adds = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int> s_removes = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int> s_locates = new(StringComparer.Ordinal);

    public static int Adds(string room) => s_adds.GetValueOrDefault(room);

    public static int Removes(string room) => s_removes.GetValueOrDefault(room);

    private static readonly ConcurrentDictionary<string, int> s_callsByKey = new(StringComparer.Ordinal);

    public static int Locates(string socketId) => s_locates.GetValueOrDefault(socketId);

    /// <summary>Calls to any grain whose string key is <paramref name="key"/> (a socket's grain, its own-id room's grain...).</summary>
    public static int CallsTo(string key) => s_callsByKey.GetValueOrDefault(key);

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.TargetId.Key.ToString() is { Length: > 0 } key)
        {
            s_callsByKey.AddOrUpdate(key, 1, (_, n) => n + 1);
        }

        if (context.Grain is IRoomGrain room)
        {
            var counts = context.InterfaceMethod?.Name switch
            {
                nameof(IRoomGrain.Add) => s_adds,
                nameof(IRoomGrain.Remove) => s_removes,
                _ => null,
            };
            counts?.AddOrUpdate(room.GetPrimaryKeyString(), 1, (_, n) => n + 1);
        }
        else if (context.Grain is ISocketGrain socket && context.InterfaceMethod?.Name == nameof(ISocketGrain.GetFrontEnd))
        {
            s_locates.AddOrUpdate(socket.GetPrimaryKeyString(), 1, (_, n) => n + 1);
        }

        return context.Invoke();
    }
}
