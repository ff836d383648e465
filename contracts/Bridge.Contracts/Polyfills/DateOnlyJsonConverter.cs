#if NETSTANDARD2_0
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bridge.Contracts;

/// <summary>
/// <see cref="DateOnly"/> on the wire as <c>YYYY-MM-DD</c>, strictly, as System.Text.Json writes and reads .NET's own
/// <c>DateOnly</c>.
/// </summary>
internal sealed class DateOnlyJsonConverter : JsonConverter<DateOnly>
{
    public override DateOnly Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"A date is a JSON string YYYY-MM-DD, not {reader.TokenType}.");
        }

        var text = reader.GetString();
        return text is { Length: 10 }
            && DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)
            ? DateOnly.FromDateTime(parsed)
            : throw new JsonException($"'{text}' is not a date YYYY-MM-DD.");
    }

    public override void Write(Utf8JsonWriter writer, DateOnly value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString("o", CultureInfo.InvariantCulture));
}
#endif
