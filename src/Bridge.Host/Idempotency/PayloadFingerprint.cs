using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bridge.Host.Idempotency;

/// <summary>
/// A stable fingerprint of a message's payload: <c>v2:</c> + SHA-256 over canonical JSON (object keys sorted, properties
/// whose value is null left out at every depth, the idempotency key itself left out). The same payload gives the same
/// fingerprint whatever the publisher's property order, and a contract that gains an optional field does not change the
/// fingerprint of a message that leaves it out — so a message in flight or dead-lettered across an upgrade is still
/// recognised as itself. Compare with <see cref="Matches"/>, which also understands the unversioned form stored before v2.
/// </summary>
public sealed class PayloadFingerprint
{
    private const string Version = "v2:";
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    private readonly Lazy<string> _unversioned;

    private PayloadFingerprint(string value, Lazy<string> unversioned)
    {
        Value = value;
        _unversioned = unversioned;
    }

    /// <summary>The form that is stored: <c>v2:</c> and 64 lowercase hex digits.</summary>
    public string Value { get; }

    public static implicit operator string(PayloadFingerprint fingerprint)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        return fingerprint.Value;
    }

    public static PayloadFingerprint Of<T>(T message) =>
        // The pre-v2 form is only needed against a record stored before the upgrade: computed then, not for every message.
        new(Version + Hash(Payload(message), keepNulls: false), new Lazy<string>(() => Hash(AsBeforeV2(Payload(message), typeof(T)), keepNulls: true)));

    /// <summary>
    /// Optional properties contracts gained after v2. The pre-v2 form kept null properties, so it is computed over the
    /// contract as it stood then: these are left out when null (a message that sets one was never fingerprinted before v2).
    /// </summary>
    private static readonly Dictionary<Type, string[]> AddedSinceV2 = new()
    {
        [typeof(Bridge.Contracts.DeleteClosingDocument)] = ["revision", "modifiedAt"],
    };

    private static JsonNode? AsBeforeV2(JsonNode? node, Type type)
    {
        if (node is JsonObject root && AddedSinceV2.TryGetValue(type, out var added))
        {
            foreach (var name in added)
            {
                if (root.TryGetPropertyValue(name, out var value) && value is null)
                {
                    root.Remove(name);
                }
            }
        }

        return node;
    }

    /// <summary>
    /// Whether a fingerprint stored with an idempotency record is the one <paramref name="current"/> message has: the same
    /// v2 value, or — for a record stored before fingerprints were versioned — what that older algorithm gives for it.
    /// </summary>
    public static bool Matches(string? stored, PayloadFingerprint current)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (stored is null)
        {
            return false;
        }

        return stored.StartsWith(Version, StringComparison.Ordinal)
            ? string.Equals(stored, current.Value, StringComparison.Ordinal)
            : IsUnversioned(stored) && string.Equals(stored, current._unversioned.Value, StringComparison.Ordinal);
    }

    public override string ToString() => Value;

    /// <summary>The pre-v2 form: 64 lowercase hex digits and nothing else.</summary>
    private static bool IsUnversioned(string stored) => stored.Length == 64 && stored.All(char.IsAsciiHexDigitLower);

    private static JsonNode? Payload<T>(T message)
    {
        var node = JsonSerializer.SerializeToNode(message, Options);
        if (node is JsonObject root)
        {
            root.Remove("idempotencyKey");
        }

        return node;
    }

    private static string Hash(JsonNode? node, bool keepNulls)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            WriteCanonical(writer, node, keepNulls);
        }

        return Convert.ToHexStringLower(SHA256.HashData(stream.ToArray()));
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonNode? node, bool keepNulls)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (name, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (value is null && !keepNulls)
                    {
                        continue;
                    }

                    writer.WritePropertyName(name);
                    WriteCanonical(writer, value, keepNulls);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                // An element's position is its meaning: a null element stays.
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    WriteCanonical(writer, item, keepNulls);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
