using System.Globalization;
using System.Text;

namespace Bridge.Host.DeadLetters.Store;

/// <summary>
/// Text as every database can hold it. PostgreSQL refuses U+0000 in text and Npgsql refuses an unpaired surrogate, so a
/// message id, key or failure holding one would make its dead letter unstorable. The dead letter's descriptive columns
/// (message id, ERP key, correlation id, content type, exception, audit) hold such characters — and every other control
/// character, so that an operator sees them — escaped as <c>\uXXXX</c>; the body and headers keep the original exactly
/// (a body holding U+0000 is stored as base64, headers as JSON), so a replay sends it byte for byte.
/// </summary>
public static class StorableText
{
    /// <summary>
    /// <paramref name="value"/> with C0/C1 control characters and unpaired surrogates written as <c>\uXXXX</c>; tabs and
    /// line breaks are kept when <paramref name="multiline"/> (exception messages, stack traces). The same value always
    /// escapes the same way, so a search for a raw value finds its stored form.
    /// </summary>
    public static string? Escape(string? value, bool multiline = false)
    {
        if (value is null)
        {
            return null;
        }

        var first = FirstUnstorable(value, multiline);
        if (first < 0)
        {
            return value;
        }

        var escaped = new StringBuilder(value.Length + 16).Append(value, 0, first);
        for (var i = first; i < value.Length; i++)
        {
            var c = value[i];
            if (IsPair(value, i))
            {
                escaped.Append(c).Append(value[++i]);
            }
            else if (Unstorable(c, multiline))
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }

    /// <summary>At most <paramref name="max"/> characters of <paramref name="value"/>, never ending in half a surrogate pair.</summary>
    public static string Clip(string value, int max)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length <= max)
        {
            return value;
        }

        return char.IsHighSurrogate(value[max - 1]) ? value[..(max - 1)] : value[..max];
    }

    /// <summary><see cref="Escape"/>d, then <see cref="Clip"/>ped to a column of <paramref name="max"/> characters.</summary>
    public static string? Column(string? value, int max, bool multiline = false) =>
        Escape(value, multiline) is { } escaped ? Clip(escaped, max) : null;

    /// <summary>Whether text holds U+0000 (which PostgreSQL refuses) or an unpaired surrogate (which has no UTF-8 form).</summary>
    public static bool HasUnencodable(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (var i = 0; i < value.Length; i++)
        {
            if (IsPair(value, i))
            {
                i++;
            }
            else if (value[i] == '\0' || char.IsSurrogate(value[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static int FirstUnstorable(string value, bool multiline)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (IsPair(value, i))
            {
                i++;
            }
            else if (Unstorable(value[i], multiline))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsPair(string value, int i) =>
        char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]);

    private static bool Unstorable(char c, bool multiline) =>
        char.IsSurrogate(c) || (char.IsControl(c) && !(multiline && c is '\t' or '\n' or '\r'));
}
