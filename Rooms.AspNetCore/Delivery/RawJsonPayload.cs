using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orleans.Rooms.Delivery;

/// <summary>A payload that is already UTF-8 JSON: written into each hub message as is, never re-serialized.</summary>
[JsonConverter(typeof(Converter))]
internal sealed class RawJsonPayload(byte[] utf8Json)
{
    public byte[] Utf8Json { get; } = utf8Json;

    private sealed class Converter : JsonConverter<RawJsonPayload>
    {
        public override RawJsonPayload Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => throw new NotSupportedException("RawJsonPayload is written, never read.");

        // The bytes were produced by System.Text.Json in the room service, so they need no validation here.
        public override void Write(Utf8JsonWriter writer, RawJsonPayload value, JsonSerializerOptions options)
            => writer.WriteRawValue(value.Utf8Json, skipInputValidation: true);
    }
}
