using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bridge.ActivePlatform.Json;

/// <summary>
/// Reads a string from whatever scalar ActivePlatform sends: ids arrive as <c>"2162"</c> or <c>2162</c>,
/// booleans as <c>true</c> or <c>"true"</c>. A nested object or array is kept as its raw JSON text
/// rather than failing the whole response.
/// </summary>
public sealed class LenientStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => RawText(ref reader),
            JsonTokenType.True => "true",
            JsonTokenType.False => "false",
            JsonTokenType.Null => null,
            JsonTokenType.StartObject or JsonTokenType.StartArray => JsonElement.ParseValue(ref reader).GetRawText(),
            _ => throw new JsonException($"Cannot read a string from {reader.TokenType}."),
        };

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value);

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetString() ?? string.Empty;

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
        writer.WritePropertyName(value);

    private static string RawText(ref Utf8JsonReader reader) =>
        reader.HasValueSequence
            ? Encoding.UTF8.GetString(reader.ValueSequence.ToArray())
            : Encoding.UTF8.GetString(reader.ValueSpan);
}

/// <summary>Reads booleans sent as JSON booleans, as strings (<c>"true"</c>, <c>"1"</c>, <c>"t"</c>) or as 0/1.</summary>
public sealed class LenientBooleanConverter : JsonConverter<bool>
{
    public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
                return false;
            case JsonTokenType.Number when reader.TryGetInt64(out var number) && number is 0 or 1:
                return number == 1;
            case JsonTokenType.String:
                var text = reader.GetString()?.Trim();
                if (text is null)
                {
                    break;
                }

                if (text.Equals("true", StringComparison.OrdinalIgnoreCase) || text is "1" || text.Equals("t", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }

                if (text.Equals("false", StringComparison.OrdinalIgnoreCase) || text is "0" || text.Equals("f", StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }

                break;
        }

        throw new JsonException($"Cannot read a boolean from {reader.TokenType}.");
    }

    public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) =>
        writer.WriteBooleanValue(value);
}

/// <summary>
/// Reads both timestamp styles the API uses: microseconds with an offset without a colon
/// (<c>2019-11-01T06:37:31.737051+0300</c>) and milliseconds with one (<c>2024-10-04T16:23:46.198+03:00</c>).
/// A timestamp without an offset is taken as UTC. Writes ISO 8601 with a colon.
/// </summary>
public sealed class TimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && TryParse(reader.GetString(), out var value))
        {
            return value;
        }

        throw new JsonException($"Cannot read a timestamp from {reader.TokenType}.");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture));

    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }
}

/// <summary>Reads dates sent as <c>YYYY-MM-DD</c> (or, tolerantly, as a timestamp: its date as written); writes <c>YYYY-MM-DD</c>.</summary>
public sealed class DateOnlyConverter : JsonConverter<DateOnly>
{
    public override DateOnly Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString()?.Trim() : null;
        if (text is not null)
        {
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return date;
            }

            if (TimestampConverter.TryParse(text, out var timestamp))
            {
                return DateOnly.FromDateTime(timestamp.DateTime);
            }
        }

        throw new JsonException($"Cannot read a date from {reader.TokenType}.");
    }

    public override void Write(Utf8JsonWriter writer, DateOnly value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
}
