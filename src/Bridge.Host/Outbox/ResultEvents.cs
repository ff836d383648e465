using System.Data.Common;
using System.Diagnostics;
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

    /// <param name="transaction">The transaction that decides the message's outcome.</param>
    /// <param name="resultEvent">The event to publish.</param>
    /// <param name="incoming">The message it answers.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <param name="sourceKey">
    /// The idempotency record the event completes, by which a status lookup finds it: the event's <c>MessageId</c> unless
    /// given (a refusal of a conflicting payload completes a record of its own, and must not be shown as the answer to the
    /// message that holds the key).
    /// </param>
    public Task EnqueueAsync(DbTransaction transaction, IResultEvent resultEvent, IncomingMessage incoming, CancellationToken cancellationToken, string? sourceKey = null)
        => outbox.EnqueueAsync(transaction, ToOutboxMessage(resultEvent, incoming, sourceKey), cancellationToken);

    /// <summary>The outbox row <see cref="EnqueueAsync"/> writes, for a caller that writes it in a batch of its own.</summary>
    public OutboxMessage ToOutboxMessage(IResultEvent resultEvent, IncomingMessage incoming, string? sourceKey = null)
    {
        ArgumentNullException.ThrowIfNull(resultEvent);
        ArgumentNullException.ThrowIfNull(incoming);
        sourceKey ??= resultEvent.MessageId;
        var headers = new Dictionary<string, string?>
        {
            ["correlationId"] = resultEvent.CorrelationId,
            ["sourceMessageId"] = resultEvent.MessageId,
            ["sourceMessageType"] = incoming.MessageType,
        };
        var (traceParent, traceState) = TraceContext(Activity.Current, incoming.TraceParent);
        return new OutboxMessage(
            NewId.NextGuid(),
            resultEvent.GetType().Name,
            JsonSerializer.Serialize(resultEvent, resultEvent.GetType(), Json),
            JsonSerializer.Serialize(headers, Json),
            clock.GetUtcNow(),
            0)
        {
            TraceParent = traceParent,
            TraceState = traceState,
            SourceMessageId = Idempotency.IdempotencyKeys.IsStorable(sourceKey) ? sourceKey : null,
        };
    }

    /// <summary>The longest <c>tracestate</c> kept (the W3C limit); a longer one is dropped rather than cut.</summary>
    public const int MaxTraceStateLength = 512;

    /// <summary>
    /// The trace context an event is published in: the handling's own span when tracing is on, else a valid W3C
    /// <c>traceparent</c> the delivery came with (anything else is not stored).
    /// </summary>
    public static (string? TraceParent, string? TraceState) TraceContext(Activity? current, string? incomingTraceParent)
    {
        if (current is { IdFormat: ActivityIdFormat.W3C, Id: { } id })
        {
            var state = current.TraceStateString;
            return (id, state is { Length: <= MaxTraceStateLength } ? state : null);
        }

        return incomingTraceParent is { Length: 55 } && ActivityContext.TryParse(incomingTraceParent, null, out _)
            ? (incomingTraceParent, null)
            : (null, null);
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
