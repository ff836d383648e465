using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Json;

namespace Bridge.ActivePlatform.Models;

/// <summary>
/// A boolean as ActivePlatform wrote it: the documented invoice sends <c>"approved": "true"</c>, a string, where JSON has
/// <c>true</c>. The value reads from either (and from the other forms <see cref="LenientBooleanConverter"/> takes); the text
/// and its JSON type are kept, so a document written again says what ActivePlatform said. Equal when the values are.
/// </summary>
[JsonConverter(typeof(ApiBooleanConverter))]
public readonly struct ApiBoolean : IEquatable<ApiBoolean>
{
    private readonly string? _text;

    public ApiBoolean(bool value, string? text)
    {
        Value = value;
        _text = text;
    }

    public bool Value { get; }

    /// <summary>The string it was sent as (<c>"true"</c>), or null when it was a JSON boolean.</summary>
    public string? QuotedText => _text;

    public static implicit operator bool(ApiBoolean value) => value.Value;

    public static implicit operator ApiBoolean(bool value) => new(value, null);

    public static bool operator ==(ApiBoolean left, ApiBoolean right) => left.Equals(right);

    public static bool operator !=(ApiBoolean left, ApiBoolean right) => !left.Equals(right);

    public bool ToBoolean() => Value;

    public bool Equals(ApiBoolean other) => Value == other.Value;

    public override bool Equals(object? obj) => obj is ApiBoolean other && Equals(other);

    public override int GetHashCode() => Value.GetHashCode();

    public override string ToString() => _text ?? (Value ? "true" : "false");
}

/// <summary>Reads an <see cref="ApiBoolean"/> as <see cref="LenientBooleanConverter"/> does and writes it back as it came.</summary>
public sealed class ApiBooleanConverter : JsonConverter<ApiBoolean>
{
    private static readonly LenientBooleanConverter Lenient = new();

    public override ApiBoolean Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return new ApiBoolean(Lenient.Read(ref reader, typeof(bool), options), text);
    }

    public override void Write(Utf8JsonWriter writer, ApiBoolean value, JsonSerializerOptions options)
    {
        if (value.QuotedText is { } text)
        {
            writer.WriteStringValue(text);
        }
        else
        {
            writer.WriteBooleanValue(value.Value);
        }
    }
}
