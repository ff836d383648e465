using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Bridge.Host.Idempotency;

public static class IdempotencyKeys
{
    /// <summary>The longest key every dialect's <c>idempotency_key</c> column holds.</summary>
    public const int MaxLength = 200;

    private const string RefusalPrefix = "\u001Frefused:";

    public static IEnumerable<string> Validate(string? key)
    {
        if (key is null)
        {
            yield return "idempotencyKey: the message has no idempotency key; set the AMQP message_id or the idempotencyKey field";
        }
        else if (key.Length > MaxLength)
        {
            yield return $"idempotencyKey: must be at most {MaxLength} characters";
        }
        else if (CharacterProblem("idempotencyKey", key) is { } problem)
        {
            yield return problem + "; the key is the body's idempotencyKey, else the AMQP message_id";
        }
    }

    /// <summary>
    /// The record key under which the refusal of one payload is kept when <paramref name="key"/> belongs to another payload:
    /// a hash of (key, message type, fingerprint) behind a prefix holding a control character, which no valid key holds, so
    /// it never meets an ERP key. At most 74 characters.
    /// </summary>
    public static string ForRefusal(string key, string messageType, string fingerprint)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(messageType);
        ArgumentNullException.ThrowIfNull(fingerprint);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{key}\n{messageType}\n{fingerprint}"));
        return RefusalPrefix + Convert.ToHexStringLower(hash);
    }

    /// <summary>Whether <paramref name="key"/> can be recorded as an idempotency key at all (every dialect can hold it).</summary>
    public static bool IsStorable(string? key) => key is { Length: > 0 and <= MaxLength } && ForbiddenCharacter(key) is null;

    /// <summary>
    /// The validation error for a key (<paramref name="field"/> names it) holding a control character or an unpaired
    /// surrogate; null when it holds none. Keys are stored, logged and compared as text: PostgreSQL refuses U+0000 in
    /// text, and no ERP key means anything by an invisible character.
    /// </summary>
    public static string? CharacterProblem(string field, string? value) =>
        value is not null && ForbiddenCharacter(value) is { } found
            ? $"{field}: must not contain control characters or unpaired surrogates (found {found})"
            : null;

    /// <summary>
    /// The first C0 or C1 control character (U+0000–U+001F, U+007F–U+009F) or unpaired UTF-16 surrogate in
    /// <paramref name="value"/>, described as <c>U+0000 at character 4</c>; null when there is none.
    /// </summary>
    public static string? ForbiddenCharacter(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsControl(c) || char.IsSurrogate(c))
            {
                return string.Create(CultureInfo.InvariantCulture, $"U+{(int)c:X4} at character {i + 1}");
            }
        }

        return null;
    }
}
