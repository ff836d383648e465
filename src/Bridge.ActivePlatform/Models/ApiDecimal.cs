using System.Globalization;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Json;

namespace Bridge.ActivePlatform.Models;

/// <summary>
/// A decimal as ActivePlatform wrote it: money arrives as a string in one place (<c>"balance": "9066.03"</c>) and as a number
/// in another (<c>"current_debt": 0.0</c>), sometimes in the same object. The value reads either way; the text and its JSON
/// type are kept, so a document read and written again (the query gateway's answer) says what ActivePlatform said, to the
/// digit and the quote. Two values are equal when their numbers are (<c>"100.0"</c> equals <c>100</c>).
/// </summary>
[JsonConverter(typeof(ApiDecimalConverter))]
public readonly struct ApiDecimal : IEquatable<ApiDecimal>, IFormattable
{
    private readonly string? _text;

    public ApiDecimal(decimal value, string text, bool quoted)
    {
        Value = value;
        _text = text;
        Quoted = quoted;
    }

    public decimal Value { get; }

    /// <summary>The digits as written (<c>"123423.0"</c>, <c>8800</c>).</summary>
    public string Text => _text ?? Value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether ActivePlatform sent it as a JSON string.</summary>
    public bool Quoted { get; }

    public static ApiDecimal FromNumber(decimal value) => new(value, value.ToString(CultureInfo.InvariantCulture), quoted: false);

    public static ApiDecimal FromString(decimal value) => new(value, value.ToString(CultureInfo.InvariantCulture), quoted: true);

    public static bool TryParse(string? text, bool quoted, out ApiDecimal value)
    {
        value = default;
        if (text is null || !decimal.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        value = new ApiDecimal(number, text, quoted);
        return true;
    }

    public static implicit operator decimal(ApiDecimal value) => value.Value;

    public static implicit operator ApiDecimal(decimal value) => FromNumber(value);

    public static bool operator ==(ApiDecimal left, ApiDecimal right) => left.Equals(right);

    public static bool operator !=(ApiDecimal left, ApiDecimal right) => !left.Equals(right);

    public decimal ToDecimal() => Value;

    public bool Equals(ApiDecimal other) => Value == other.Value;

    public override bool Equals(object? obj) => obj is ApiDecimal other && Equals(other);

    public override int GetHashCode() => Value.GetHashCode();

    public override string ToString() => Text;

    public string ToString(string? format, IFormatProvider? formatProvider) => Value.ToString(format, formatProvider);
}
