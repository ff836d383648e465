using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bridge.Host.Idempotency;

/// <summary>
/// A stable fingerprint of a message's payload: SHA-256 over canonical JSON (object keys sorted, the idempotency key itself
/// left out), so the same payload always gives the same fingerprint whatever the publisher's property order.
/// </summary>
public static class PayloadFingerprint
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static string Of<T>(T message)
    {
        var node = JsonSerializer.SerializeToNode(message, Options);
        if (node is JsonObject root)
        {
            root.Remove("idempotencyKey");
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            WriteCanonical(writer, node);
        }

        return Convert.ToHexStringLower(SHA256.HashData(stream.ToArray()));
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonNode? node)
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
                    writer.WritePropertyName(name);
                    WriteCanonical(writer, value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    WriteCanonical(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
