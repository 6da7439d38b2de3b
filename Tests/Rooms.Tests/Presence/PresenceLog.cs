using System.Text.Json;
using Orleans.Rooms.Presence;
using Orleans.Rooms.Tests.Infrastructure;

namespace Orleans.Rooms.Tests.Presence;

/// <summary>The presence transitions one socket was sent, read from its inbox: each join and leave with its key and ref.</summary>
internal static class PresenceLog
{
    public sealed record Transition(string Room, bool Join, string Key, string Ref);

    public static List<Transition> Of(TestFrontEnd.Inbox inbox, string room)
    {
        var transitions = new List<Transition>();
        foreach (var (name, payload) in inbox.Received.Where(r => r.Event == PresenceEvents.Diff))
        {
            using var diff = JsonDocument.Parse(payload);
            if (diff.RootElement.GetProperty("room").GetString() != room)
            {
                continue;
            }

            transitions.AddRange(Read(room, diff.RootElement.GetProperty("leaves"), join: false));
            transitions.AddRange(Read(room, diff.RootElement.GetProperty("joins"), join: true));
        }

        return transitions;
    }

    /// <summary>The metas of the room's <c>presence_state</c>s the socket was sent, as joins.</summary>
    public static List<Transition> StatesOf(TestFrontEnd.Inbox inbox, string room)
    {
        var transitions = new List<Transition>();
        foreach (var (name, payload) in inbox.Received.Where(r => r.Event == PresenceEvents.State))
        {
            using var state = JsonDocument.Parse(payload);
            if (state.RootElement.GetProperty("room").GetString() == room)
            {
                transitions.AddRange(Read(room, state.RootElement.GetProperty("state"), join: true));
            }
        }

        return transitions;
    }

    public static int DiffsOf(TestFrontEnd.Inbox inbox, string room)
        => inbox.Received.Count(r => r.Event == PresenceEvents.Diff && r.Payload.Contains($"\"room\":{JsonSerializer.Serialize(room)}", StringComparison.Ordinal));

    /// <summary>The room a presence payload is about.</summary>
    public static string? RoomOf(byte[] payload)
    {
        using var document = JsonDocument.Parse(payload);
        return document.RootElement.GetProperty("room").GetString();
    }

    /// <summary>How many metas a diff payload joins.</summary>
    public static int Joins(byte[] payload)
    {
        using var document = JsonDocument.Parse(payload);
        return document.RootElement.GetProperty("joins").EnumerateObject().Sum(k => k.Value.GetProperty("metas").GetArrayLength());
    }

    /// <summary>Waits until the socket was sent a transition matching <paramref name="match"/> in <paramref name="room"/>.</summary>
    public static Task WaitForAsync(TestFrontEnd.Inbox inbox, string room, Func<Transition, bool> match, string what, TimeSpan? within = null)
        => inbox.WaitForAsync(
            (name, payload) => name == PresenceEvents.Diff && Parse(room, payload).Any(match),
            what,
            within);

    /// <summary>Each key of a room's state with the refs of its metas, as <see cref="IRoomService.PresenceAsync"/> answers it.</summary>
    public static Dictionary<string, string[]> Keys(RoomPresence presence)
        => presence.Keys.ToDictionary(k => k.Key, k => k.Value.Select(m => m.GetProperty("ref").GetString()!).Order().ToArray(), StringComparer.Ordinal);

    private static List<Transition> Parse(string room, string payload)
    {
        using var diff = JsonDocument.Parse(payload);
        return diff.RootElement.GetProperty("room").GetString() != room
            ? []
            : [.. Read(room, diff.RootElement.GetProperty("leaves"), join: false), .. Read(room, diff.RootElement.GetProperty("joins"), join: true)];
    }

    private static IEnumerable<Transition> Read(string room, JsonElement keys, bool join)
    {
        foreach (var key in keys.EnumerateObject())
        {
            foreach (var meta in key.Value.GetProperty("metas").EnumerateArray())
            {
                yield return new Transition(room, join, key.Name, meta.GetProperty("ref").GetString()!);
            }
        }
    }
}
