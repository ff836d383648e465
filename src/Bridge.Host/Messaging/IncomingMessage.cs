namespace Bridge.Host.Messaging;

/// <summary>What Bridge knows about one delivery of an ERP message, besides its body.</summary>
/// <param name="IdempotencyKey">The message's explicit idempotency key, else its message id; null when it has neither.</param>
/// <param name="CorrelationId">Carried into every result event; the idempotency key when the publisher set none.</param>
/// <param name="MessageType">The contract name, e.g. <c>SendClosingDocument</c>.</param>
public sealed record IncomingMessage(string? IdempotencyKey, string CorrelationId, string MessageType, string? TraceParent)
{
    /// <summary>The delivery's telemetry, where the outcome is recorded; null outside a consumed delivery (e.g. a dead-letter capture).</summary>
    public MessageHandling? Handling { get; init; }
}
