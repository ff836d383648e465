using System.Text;
using System.Text.Json;
using Bridge.Chaos.Checking;
using Bridge.Chaos.Model;

namespace Bridge.Chaos.Generation;

/// <summary>How one publication goes out.</summary>
public enum Route
{
    Amqp,

    /// <summary>Through the HTTP door, until a definitive answer.</summary>
    Door,

    /// <summary>Through the door, and once accepted sent again at once, the same request: an ERP that lost the 202.</summary>
    DoorResent,
}

/// <summary>
/// Which publications of the stream go through Bridge's HTTP door instead of AMQP: a seeded share of those the door can
/// carry. Drawn from a Random of its own (one draw per publication, carried or not), so the stream itself, and which
/// publication goes where, are the same for a seed whatever the share; a share of 0 is the AMQP-only run of before.
/// Of the door's publications, <see cref="ResendShare"/> are sent again after their 202.
/// </summary>
public static class DoorRouting
{
    /// <summary>Bridge's default <c>Bridge:Ingress:MaxBodyBytes</c> (the chaos run does not change it).</summary>
    public const long MaxBodyBytes = 8 * 1024 * 1024;

    /// <summary>The longest key in UTF-8 bytes the door takes (it becomes the AMQP <c>message_id</c>).</summary>
    public const int MaxKeyBytes = 255;

    public const double ResendShare = 0.15;

    /// <summary>For each position of <paramref name="stream"/>, how it is sent.</summary>
    public static Route[] Plan(int seed, double share, IReadOnlyList<Publication> stream)
    {
        var random = new Random(unchecked((seed * 7919) + 104_729));
        var routes = new Route[stream.Count];
        for (var i = 0; i < stream.Count; i++)
        {
            var draw = random.NextDouble();
            var resend = random.NextDouble() < ResendShare;
            routes[i] = draw >= share || !CanCarry(stream[i].Message) ? Route.Amqp
                : resend ? Route.DoorResent
                : Route.Door;
        }

        return routes;
    }

    /// <summary>
    /// Whether an ERP could send this message through the door as it is: a JSON object body of one of the input messages,
    /// under a key the door takes as the consumer would take it — the AMQP message id (sent as <c>Idempotency-Key</c>) or,
    /// for a publisher that sets none, the body's own <c>idempotencyKey</c>; at most 255 UTF-8 bytes, storable (no control
    /// character), with nothing to trim. A body whose <c>idempotencyKey</c> differs from its AMQP id stays on AMQP: the door
    /// refuses two keys, and the consumer would key it by the body's.
    /// </summary>
    public static bool CanCarry(PlannedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!ErpQueues.ByMessageType.ContainsKey(message.MessageType) || message.Body.Length == 0 || message.Body.LongLength > MaxBodyBytes
            || message.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string? bodyKey;
        try
        {
            using var document = JsonDocument.Parse(message.Body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            bodyKey = document.RootElement.EnumerateObject()
                .Where(p => string.Equals(p.Name, "idempotencyKey", StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.String)
                .Select(p => p.Value.GetString())
                .LastOrDefault();
        }
        catch (JsonException)
        {
            return false;
        }

        var key = message.AmqpMessageId ?? bodyKey;
        return key is not null
            && string.Equals(key, message.IdempotencyKey, StringComparison.Ordinal)
            && (bodyKey is null || string.Equals(bodyKey, key, StringComparison.Ordinal))
            && string.Equals(key, key.Trim(), StringComparison.Ordinal)
            && OutcomeChecks.IsUsableKey(key)
            && Encoding.UTF8.GetByteCount(key) <= MaxKeyBytes;
    }
}
