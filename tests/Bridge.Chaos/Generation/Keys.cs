using System.Globalization;

namespace Bridge.Chaos.Generation;

/// <summary>
/// ERP keys and message ids, mostly plain and now and then with characters that break careless code: URL-reserved
/// characters (a key travels in <c>filter[key]</c>), quotes and backslashes (JSON, SQL), Cyrillic and emoji (UTF-8 widths),
/// invisible characters, the longest key allowed. Control characters are kept for their own flow (<see cref="WithControlCharacter"/>).
/// </summary>
public sealed class Keys(Random random)
{
    /// <summary>Share of keys and ids that get an odd fragment.</summary>
    public const double OddShare = 0.15;

    private static readonly string[] OddFragments =
    [
        "+plus", "a/b", "%2F", "?x=1&y=2", "#frag", "\"quoted\"", "back\\slash", "<tag>", "ключ-документа", "🧾", "zero\u200Bwidth",
        "'apostrophe'", "semi;colon", "[brackets]", "a|pipe", "*star*", "ÄÖÜß", "=",
    ];

    private static readonly string[] ControlCharacters = ["\u0000", "\u0001", "\u001b", "\u007f"];

    /// <summary>An ERP key: <paramref name="prefix"/> and a number, sometimes with an odd fragment (never before the prefix).</summary>
    public string Key(string prefix, int number)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{prefix}{number}");
        if (random.NextDouble() >= OddShare)
        {
            return key;
        }

        var fragment = OddFragments[random.Next(OddFragments.Length)];
        return random.Next(8) == 0
            ? (key + "-" + new string('x', 128)).Substring(0, 128) // the longest key every flow accepts
            : key + "-" + fragment;
    }

    /// <summary>A key holding a control character (U+0000 included), which Bridge must refuse or carry, never choke on.</summary>
    public string WithControlCharacter(string prefix, int number) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}{number}-{ControlCharacters[random.Next(ControlCharacters.Length)]}-end");

    public string MessageId(int number)
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"m{number:D6}-{random.Next():x8}");
        return random.NextDouble() < OddShare / 3 ? id + "-сообщение-🧾" : id;
    }
}
