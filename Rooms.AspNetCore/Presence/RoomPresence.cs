using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orleans.Rooms.Presence;

/// <summary>
/// Who is in a room (<see cref="Membership.IRoomService.PresenceAsync"/>): for each key, the metas of each of its
/// sockets (<c>ref</c>: the socket's id). Serializes as the <c>state</c> object of <c>presence_state</c>
/// (<c>{ "key": { "metas": [ ... ] } }</c>), written as the bytes it came as.
/// </summary>
[JsonConverter(typeof(Converter))]
public sealed class RoomPresence
{
    private IReadOnlyDictionary<string, IReadOnlyList<JsonElement>>? _keys;

    internal RoomPresence(string room, byte[] json, string version)
    {
        Room = room;
        Json = json;
        Version = version;
    }

    /// <summary>The room.</summary>
    public string Room { get; }

    /// <summary>
    /// The state's version, <c>epoch.seq</c>: every <c>presence_diff</c> of the room with the same epoch and a higher
    /// seq came after it (and only those); a diff of another epoch came from the room's presence rebuilt after a
    /// silo was lost. Answered in header <c>Rooms-Presence-Version</c> by the example route.
    /// </summary>
    public string Version { get; }

    /// <summary>The state as UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> Json { get; }

    /// <summary>Each key with the metas of its sockets, parsed on first use.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<JsonElement>> Keys => _keys ??= Parse(Json);

    private static Dictionary<string, IReadOnlyList<JsonElement>> Parse(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json);
        var keys = new Dictionary<string, IReadOnlyList<JsonElement>>(StringComparer.Ordinal);
        foreach (var key in document.RootElement.EnumerateObject())
        {
            keys[key.Name] = [.. key.Value.GetProperty("metas").EnumerateArray().Select(m => m.Clone())];
        }

        return keys;
    }

    private sealed class Converter : JsonConverter<RoomPresence>
    {
        public override RoomPresence Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => throw new NotSupportedException("RoomPresence is written, not read: read the state as a dictionary of keys.");

        public override void Write(Utf8JsonWriter writer, RoomPresence value, JsonSerializerOptions options)
            => writer.WriteRawValue(value.Json.Span, skipInputValidation: true);
    }
}
