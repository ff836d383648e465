using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.Chaos.Model;

namespace Bridge.Chaos.Generation;

/// <summary>
/// What every scenario family draws from: the one seeded <see cref="Random"/> (so a seed always gives the same stream),
/// the world the messages refer to, key material, and the factory that turns a contract into a planned message.
/// </summary>
public sealed class GenerationContext(int seed)
{
    /// <summary>Plain JSON as a 1C ERP writes it: camelCase, enums as strings, absent fields left out.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private int _ordinal;
    private int _messageIds;

    public Random Random { get; } = new(seed);

    public WorldSpec World { get; } = new();

    public Keys Keys { get; } = new(new Random(unchecked((seed * 31) + 7)));

    public bool Chance(double probability) => Random.NextDouble() < probability;

    public double NextDouble() => Random.NextDouble();

    public T Pick<T>(IReadOnlyList<T> items) => items[Random.Next(items.Count)];

    /// <summary>A fresh AMQP message id (now and then with odd characters, as any string is allowed).</summary>
    public string NewMessageId() => Keys.MessageId(++_messageIds);

    /// <summary>A well-formed (or deliberately invalid) JSON message for a contract.</summary>
    /// <param name="idempotencyKey">Reuse another message's key (a conflicting payload under one key); a new id when null.</param>
    /// <param name="keyInBody">Send the key as the body's <c>idempotencyKey</c> and no AMQP message id, as a publisher that cannot set one does.</param>
    public PlannedMessage Message(
        Flow flow,
        object payload,
        string subject,
        string description,
        Expectation expectation = Expectation.Valid,
        string? idempotencyKey = null,
        bool keyInBody = false,
        string? after = null)
    {
        var key = idempotencyKey ?? NewMessageId();
        var node = JsonSerializer.SerializeToNode(payload, payload.GetType(), Json)!.AsObject();
        if (keyInBody)
        {
            node["idempotencyKey"] = key;
        }

        return new PlannedMessage
        {
            Ordinal = ++_ordinal,
            Flow = flow,
            MessageType = payload.GetType().Name,
            IdempotencyKey = key,
            AmqpMessageId = keyInBody ? null : key,
            Body = JsonSerializer.SerializeToUtf8Bytes(node, Json),
            Expectation = expectation,
            Subject = subject,
            Payload = payload,
            After = after,
            Description = description,
        };
    }

    /// <summary>A message whose body is given as bytes (not JSON, or JSON the contract does not describe).</summary>
    public PlannedMessage Raw(Flow flow, string messageType, byte[] body, string? contentType, string subject, string description, Expectation expectation)
    {
        var key = NewMessageId();
        return new PlannedMessage
        {
            Ordinal = ++_ordinal,
            Flow = flow,
            MessageType = messageType,
            IdempotencyKey = key,
            AmqpMessageId = key,
            Body = body,
            ContentType = contentType,
            Expectation = expectation,
            Subject = subject,
            Payload = null,
            Description = description,
        };
    }

    /// <summary>Publications of <paramref name="message"/>: itself, and a duplicate delivery when <paramref name="duplicate"/>.</summary>
    public static IEnumerable<Publication> Publish(PlannedMessage message, bool duplicate)
    {
        yield return new Publication(message, 0);
        if (duplicate)
        {
            yield return new Publication(message, 1);
        }
    }

    /// <summary>A random order of <paramref name="count"/> items (Fisher-Yates on the seeded Random), drawn when planning.</summary>
    public int[] Permutation(int count)
    {
        var order = Enumerable.Range(0, count).ToArray();
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = Random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }

    /// <summary>The publications in a drawn order, duplicate deliveries moved after their originals.</summary>
    public static List<Publication> Arrange(IReadOnlyList<Publication> publications, int[] permutation) =>
        OriginalsFirst([.. permutation.Select(i => publications[i])]);

    /// <summary>Moves every duplicate delivery after its original, so a "duplicate" never arrives first.</summary>
    private static List<Publication> OriginalsFirst(List<Publication> publications)
    {
        var seen = new HashSet<PlannedMessage>();
        var ordered = new List<Publication>();
        var deferred = new List<Publication>();
        foreach (var publication in publications)
        {
            if (publication.Copy == 0)
            {
                ordered.Add(publication);
                seen.Add(publication.Message);
                ordered.AddRange(deferred.Where(d => seen.Contains(d.Message)));
                deferred.RemoveAll(d => seen.Contains(d.Message));
            }
            else if (seen.Contains(publication.Message))
            {
                ordered.Add(publication);
            }
            else
            {
                deferred.Add(publication);
            }
        }

        ordered.AddRange(deferred);
        return ordered;
    }
}
