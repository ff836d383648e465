using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Json;

/// <summary>Reads an <see cref="ApiTimestamp"/> in either of ActivePlatform's styles and writes back the text it came as.</summary>
public sealed class ApiTimestampConverter : JsonConverter<ApiTimestamp>
{
    public override ApiTimestamp Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && ApiTimestamp.TryParse(reader.GetString(), out var value)
            ? value
            : throw new JsonException($"Cannot read a timestamp from {reader.TokenType}.");

    public override void Write(Utf8JsonWriter writer, ApiTimestamp value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Text);
}
