using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Json;

/// <summary>Reads an <see cref="ApiDecimal"/> from a number or a numeric string and writes it back as it came.</summary>
public sealed class ApiDecimalConverter : JsonConverter<ApiDecimal>
{
    public override ApiDecimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var (text, quoted) = reader.TokenType switch
        {
            JsonTokenType.Number => (Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan), false),
            JsonTokenType.String => (reader.GetString(), true),
            _ => (null, false),
        };

        return ApiDecimal.TryParse(text, quoted, out var value)
            ? value
            : throw new JsonException($"Cannot read a decimal from {reader.TokenType}.");
    }

    public override void Write(Utf8JsonWriter writer, ApiDecimal value, JsonSerializerOptions options)
    {
        if (value.Quoted)
        {
            writer.WriteStringValue(value.Text);
        }
        else
        {
            writer.WriteRawValue(value.Text);
        }
    }
}
