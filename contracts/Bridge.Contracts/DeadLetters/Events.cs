namespace Bridge.Contracts;

/// <summary>
/// An incoming message could not be handled — it exhausted its retries, or could not be read — and is now held by Bridge
/// as a dead letter until an operator replays or discards it. Finance workflows learn from it which ERP document is stuck.
/// </summary>
public sealed record ErpMessageDeadLettered : IResultEvent
{
    /// <summary>The ERP's key read from the body's <c>key</c>; empty when the body could not be read or has none.</summary>
    public required string Key { get; init; }

    /// <summary>The message's idempotency key (its <c>idempotencyKey</c>, else its message id); empty when it had neither.</summary>
    public required string MessageId { get; init; }

    public required string CorrelationId { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>Bridge's id of the dead letter: what operators replay, discard or restore.</summary>
    public required Guid DeadLetterId { get; init; }

    /// <summary>The contract the queue carries, e.g. <c>SendClosingDocument</c>.</summary>
    public required string MessageType { get; init; }

    /// <summary>The input queue the message was read from, e.g. <c>bridge.send-closing-document</c>.</summary>
    public required string Queue { get; init; }

    /// <summary>The .NET type of the failure, e.g. <c>System.Text.Json.JsonException</c>.</summary>
    public required string ExceptionType { get; init; }

    /// <summary>The failure in words (the exception's message, shortened); never contains secrets.</summary>
    public required string Reason { get; init; }

    /// <summary>How many times this message has been dead-lettered (1 the first time; more when a replay failed again).</summary>
    public required int FailureCount { get; init; }
}
