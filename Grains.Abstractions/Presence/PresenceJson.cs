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

    /// <summary>Groups of at most this many entries are found by comparing keys, without a lookup.</summary>
    private const int SmallGroup = 16;

    /// <summary>A scratch buffer larger than this after a write is not kept for the next.</summary>
    private const int KeptScratchBytes = 16 * 1024;

    [ThreadStatic]
    private static Scratch? t_scratch;

    /// <summary>A meta as sent: the app's meta object with <c>ref</c> first.</summary>
    /// <param name="socketId">The socket.</param>
    /// <param name="meta">The app's meta: compact UTF-8 JSON of an object without a <c>ref</c> property (checked by the caller).</param>
    public static byte[] Meta(string socketId, ReadOnlySpan<byte> meta)
    {
        var scratch = Scratch.Begin();
        var writer = scratch.Writer;
        writer.WriteStartObject();
        writer.WriteString(RefProperty, socketId);
        writer.Flush();

        // The app's properties follow as they are: everything inside its braces.
        var inner = meta[1..^1].Trim((byte)' ');
        if (!inner.IsEmpty)
        {
            scratch.Buffer.Write(","u8);
            scratch.Buffer.Write(inner);
        }

        scratch.Buffer.Write("}"u8);
        return scratch.ToArray(flush: false);
    }

    /// <summary>Writes <c>{ "key": { "metas": [ ... ] } }</c> for <paramref name="entries"/> (grouped by key, in their order).</summary>
    public static void WriteState(Utf8JsonWriter writer, IReadOnlyList<(string Key, byte[] Meta)> entries)
    {
        writer.WriteStartObject();
        if (entries.Count <= SmallGroup)
        {
            for (var i = 0; i < entries.Count; i++)
            {
                var key = entries[i].Key;
                if (!SeenBefore(entries, i))
                {
                    WriteGroupStart(writer, key);
                    for (var k = i; k < entries.Count; k++)
                    {
                        if (string.Equals(entries[k].Key, key, StringComparison.Ordinal))
                        {
                            writer.WriteRawValue(entries[k].Meta, skipInputValidation: true);
                        }
                    }

                    WriteGroupEnd(writer);
                }
            }
        }
        else
        {
            foreach (var group in entries.GroupBy(e => e.Key, StringComparer.Ordinal))
            {
                WriteGroupStart(writer, group.Key);
                foreach (var (_, meta) in group)
                {
                    writer.WriteRawValue(meta, skipInputValidation: true);
                }

                WriteGroupEnd(writer);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>A state alone, as UTF-8 JSON.</summary>
    public static byte[] State(IReadOnlyList<(string Key, byte[] Meta)> entries)
    {
        var scratch = Scratch.Begin();
        WriteState(scratch.Writer, entries);
        return scratch.ToArray();
    }

    /// <summary>The payload of <c>presence_state</c>: <c>{ "room", "state", "version" }</c>.</summary>
    public static byte[] StateEvent(string room, PresenceState state)
    {
        var scratch = Scratch.Begin();
        var writer = scratch.Writer;
        writer.WriteStartObject();
        writer.WriteString("room", room);
        writer.WritePropertyName("state");
        writer.WriteRawValue(state.State, skipInputValidation: true);
        writer.WriteString("version", state.Version);
        writer.WriteEndObject();
        return scratch.ToArray();
    }

    /// <summary>The payload of <c>presence_diff</c>: <c>{ "room", "joins", "leaves", "version" }</c>.</summary>
    public static byte[] DiffEvent(string room, IReadOnlyList<(string Key, byte[] Meta)> joins, IReadOnlyList<(string Key, byte[] Meta)> leaves, string version)
    {
        var scratch = Scratch.Begin();
        var writer = scratch.Writer;
        writer.WriteStartObject();
        writer.WriteString("room", room);
        writer.WritePropertyName("joins");
        WriteState(writer, joins);
        writer.WritePropertyName("leaves");
        WriteState(writer, leaves);
        writer.WriteString("version", version);
        writer.WriteEndObject();
        return scratch.ToArray();
    }

    private static bool SeenBefore(IReadOnlyList<(string Key, byte[] Meta)> entries, int index)
    {
        for (var j = 0; j < index; j++)
        {
            if (string.Equals(entries[j].Key, entries[index].Key, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static void WriteGroupStart(Utf8JsonWriter writer, string key)
    {
        writer.WritePropertyName(key);
        writer.WriteStartObject();
        writer.WritePropertyName("metas");
        writer.WriteStartArray();
    }

    private static void WriteGroupEnd(Utf8JsonWriter writer)
    {
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>
    /// A buffer and a writer kept per thread: each payload is written in one synchronous step, so a thread writes
    /// one at a time, and only the finished bytes are allocated.
    /// </summary>
    private sealed class Scratch
    {
        private Scratch()
        {
            Writer = new Utf8JsonWriter(Buffer);
        }

        public ArrayBufferWriter<byte> Buffer { get; } = new(256);

        public Utf8JsonWriter Writer { get; }

        public static Scratch Begin()
        {
            var scratch = t_scratch ??= new Scratch();
            scratch.Buffer.ResetWrittenCount();
            scratch.Writer.Reset(scratch.Buffer);
            return scratch;
        }

        public byte[] ToArray(bool flush = true)
        {
            if (flush)
            {
                Writer.Flush();
            }

            var bytes = Buffer.WrittenSpan.ToArray();
            if (Buffer.Capacity > KeptScratchBytes)
            {
                t_scratch = null;
            }

            return bytes;
        }
    }
}
