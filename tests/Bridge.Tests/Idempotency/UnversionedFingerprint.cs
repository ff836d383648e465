using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bridge.Tests.Idempotency;

/// <summary>
/// The fingerprint as Bridge computed it before fingerprints were versioned (nulls kept, no prefix), to stand for records
/// stored by an older Bridge. <see cref="PayloadFingerprintTests"/> pins it against a value that version produced.
/// </summary>
public static class UnversionedFingerprint
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static string Of<T>(T message)
    {
        var node = JsonSerializer.SerializeToNode(message, Options);
        (node as JsonObject)?.Remove("idempotencyKey");
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            Write(writer, node);
        }

        return Convert.ToHexStringLower(SHA256.HashData(stream.ToArray()));
    }

    private static void Write(Utf8JsonWriter writer, JsonNode? node)
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
                    Write(writer, value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
