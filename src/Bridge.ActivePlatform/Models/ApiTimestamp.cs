using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Json;

namespace Bridge.ActivePlatform.Models;

/// <summary>
/// A timestamp as ActivePlatform wrote it. The API uses two styles (<c>…21.629+03:00</c> and <c>…31.737051+0300</c>); the
/// instant reads from either, and the text is kept so that a document written again carries the same string
/// (<c>.820</c> stays <c>.820</c>). Two values are equal when their instants are.
/// </summary>
[JsonConverter(typeof(ApiTimestampConverter))]
public readonly struct ApiTimestamp : IEquatable<ApiTimestamp>
{
    private readonly string? _text;

    public ApiTimestamp(DateTimeOffset value, string? text)
    {
        Value = value;
        _text = text;
    }

    public DateTimeOffset Value { get; }

    public string Text => _text ?? Value.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", System.Globalization.CultureInfo.InvariantCulture);

    public static bool TryParse(string? text, out ApiTimestamp value)
    {
        value = default;
        if (!TimestampConverter.TryParse(text, out var instant))
        {
            return false;
        }

        value = new ApiTimestamp(instant, text);
        return true;
    }

    public static implicit operator DateTimeOffset(ApiTimestamp value) => value.Value;

    public static implicit operator ApiTimestamp(DateTimeOffset value) => new(value, null);

    public static bool operator ==(ApiTimestamp left, ApiTimestamp right) => left.Equals(right);

    public static bool operator !=(ApiTimestamp left, ApiTimestamp right) => !left.Equals(right);

    public DateTimeOffset ToDateTimeOffset() => Value;

    public bool Equals(ApiTimestamp other) => Value == other.Value;

    public override bool Equals(object? obj) => obj is ApiTimestamp other && Equals(other);

    public override int GetHashCode() => Value.GetHashCode();

    public override string ToString() => Text;
}
