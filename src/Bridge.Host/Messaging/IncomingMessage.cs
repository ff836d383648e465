namespace Bridge.Host.Messaging;

/// <summary>What Bridge knows about one delivery of an ERP message, besides its body.</summary>
/// <param name="IdempotencyKey">The message's explicit idempotency key, else its message id; null when it has neither.</param>
/// <param name="CorrelationId">Carried into every result event; the idempotency key when the publisher set none.</param>
/// <param name="MessageType">The contract name, e.g. <c>SendClosingDocument</c>.</param>
public sealed record IncomingMessage(string? IdempotencyKey, string CorrelationId, string MessageType, string? TraceParent)
{
    /// <summary>The delivery's telemetry, where the outcome is recorded; null outside a consumed delivery (e.g. a dead-letter capture).</summary>
    public MessageHandling? Handling { get; init; }

    /// <summary>
    /// For a copy a dead letter's replay sent: the copy's own id (header <c>Bridge-Replay-Copy</c>), which the letter counts
    /// until a capture of the copy takes it back; null for any other delivery. Only a counted copy of a letter holding the
    /// key is applied.
    /// </summary>
    public string? ReplayCopy { get; init; }

    /// <summary>For a copy a dead letter's replay sent: the letter's id (header <c>Bridge-Replay-Of</c>); null for any other delivery.</summary>
    public Guid? ReplayOf { get; init; }
}
