using System.Data.Common;
using System.Text.Json;
using Bridge.Contracts;
using Bridge.Host.Messaging;
using Bridge.Host.Storage;
using MassTransit;

namespace Bridge.Host.Outbox;

/// <summary>Writes result events to the outbox inside the caller's transaction, and turns them back into contracts to publish.</summary>
public sealed class ResultEvents(IOutboxStore outbox, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task EnqueueAsync(DbTransaction transaction, IResultEvent resultEvent, IncomingMessage incoming, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string?>
        {
            ["correlationId"] = resultEvent.CorrelationId,
            ["sourceMessageId"] = resultEvent.MessageId,
            ["sourceMessageType"] = incoming.MessageType,
            ["traceparent"] = incoming.TraceParent,
        };
        var message = new OutboxMessage(
            NewId.NextGuid(),
            resultEvent.GetType().Name,
            JsonSerializer.Serialize(resultEvent, resultEvent.GetType(), Json),
            JsonSerializer.Serialize(headers, Json),
            clock.GetUtcNow(),
            0);
        await outbox.EnqueueAsync(transaction, message, cancellationToken);
    }

    public static Type ContractType(string messageType)
        => typeof(IResultEvent).Assembly.GetType($"{typeof(IResultEvent).Namespace}.{messageType}", throwOnError: false)
           ?? throw new InvalidOperationException($"Outbox message type '{messageType}' is not a Bridge.Contracts type.");

    public static object Deserialize(OutboxMessage message)
        => JsonSerializer.Deserialize(message.Body, ContractType(message.MessageType), Json)
           ?? throw new InvalidOperationException($"Outbox message {message.Id} has an empty body.");

    public static IReadOnlyDictionary<string, string?> Headers(OutboxMessage message)
        => JsonSerializer.Deserialize<Dictionary<string, string?>>(message.Headers, Json) ?? [];
}
