using System.Buffers;
using System.Text.Json;

namespace Orleans.Rooms.Presence;

/// <summary>
/// The JSON of presence, written in one place for the grain and the front ends: a state is
/// <c>{ "key": { "metas": [ meta, ... ] } }</c>, each meta an object with the socket's id as <c>ref</c>
/// (the format of Phoenix.Presence, docs/presence.md). Metas are kept as their UTF-8 JSON and written as is.
/// </summary>
internal static class PresenceJson
{
    /// <summary>The name of the property every meta carries: the socket's id.</summary>
    public const string RefProperty = "ref";

    /// <summary>A meta as sent: the app's meta object with <c>ref</c> first.</summary>
    /// <param name="socketId">The socket.</param>
    /// <param name="meta">The app's meta: compact UTF-8 JSON of an object without a <c>ref</c> property (checked by the caller).</param>
    public static byte[] Meta(string socketId, ReadOnlySpan<byte> meta)
    {
        var buffer = new ArrayBufferWriter<byte>(meta.Length + socketId.Length + 16);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(RefProperty, socketId);
            writer.Flush();
        }

        // The app's properties follow as they are: everything inside its braces.
        var inner = meta[1..^1].Trim((byte)' ');
        if (!inner.IsEmpty)
        {
            buffer.Write(","u8);
            buffer.Write(inner);
        }

        buffer.Write("}"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes <c>{ "key": { "metas": [ ... ] } }</c> for <paramref name="entries"/> (grouped by key, in their order).</summary>
    public static void WriteState(Utf8JsonWriter writer, IEnumerable<(string Key, byte[] Meta)> entries)
    {
        writer.WriteStartObject();
        foreach (var group in entries.GroupBy(e => e.Key, StringComparer.Ordinal))
        {
            writer.WritePropertyName(group.Key);
            writer.WriteStartObject();
            writer.WritePropertyName("metas");
            writer.WriteStartArray();
            foreach (var (_, meta) in group)
            {
                writer.WriteRawValue(meta, skipInputValidation: true);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <summary>A state alone, as UTF-8 JSON.</summary>
    public static byte[] State(IEnumerable<(string Key, byte[] Meta)> entries)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteState(writer, entries);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The payload of <c>presence_state</c>: <c>{ "room", "state", "version" }</c>.</summary>
    public static byte[] StateEvent(string room, PresenceState state)
    {
        var buffer = new ArrayBufferWriter<byte>(state.State.Length + room.Length + 64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("room", room);
            writer.WritePropertyName("state");
            writer.WriteRawValue(state.State, skipInputValidation: true);
            writer.WriteString("version", state.Version);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The payload of <c>presence_diff</c>: <c>{ "room", "joins", "leaves", "version" }</c>.</summary>
    public static byte[] DiffEvent(string room, IEnumerable<(string Key, byte[] Meta)> joins, IEnumerable<(string Key, byte[] Meta)> leaves, string version)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("room", room);
            writer.WritePropertyName("joins");
            WriteState(writer, joins);
            writer.WritePropertyName("leaves");
            WriteState(writer, leaves);
            writer.WriteString("version", version);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
