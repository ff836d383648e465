using System.Text.Json.Serialization;

namespace Bridge.Contracts;

/// <summary>Which case of ActivePlatform's completion matrix happened.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PaymentCompletionOutcome>))]
public enum PaymentCompletionOutcome
{
    /// <summary>The payment was waiting (or expired) and is now completed (or paid from balance).</summary>
    Completed,

    /// <summary>More than the payment's total arrived: completed, and a correction books the excess.</summary>
    Overpaid,

    /// <summary>Less than the payment's total arrived: the status is unchanged and a correction books the amount received.</summary>
    PartiallyPaid,

    /// <summary>The payment was already closed: its status is unchanged and a correction books the amount received.</summary>
    AlreadyClosed,
}

/// <summary>The payment completion is applied. The key is the payment number (by number) or the payment id (by id, from balance).</summary>
public sealed record PaymentCompleted : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }

    public required PaymentCompletionMode Mode { get; init; }

    public required PaymentCompletionOutcome Outcome { get; init; }

    public string? PaymentId { get; init; }

    public string? PaymentNumber { get; init; }

    /// <summary>The payment's status in ActivePlatform after the completion, e.g. <c>completed</c>.</summary>
    public string? PaymentStatus { get; init; }

    /// <summary>The amount received, as sent (by number); null when the payment's own total was meant.</summary>
    public decimal? Amount { get; init; }

    public string? ExternalTransactionId { get; init; }

    /// <summary>The correction ActivePlatform created (overpaid, partially paid, already closed), when Bridge could identify it.</summary>
    public string? CorrectionId { get; init; }

    /// <summary>True when an earlier message already applied this completion (same statement line); nothing was done again.</summary>
    public required bool AlreadyApplied { get; init; }
}

/// <summary>The top-up payment exists in ActivePlatform, waiting for payment. The key is the ERP's key of the top-up.</summary>
public sealed record PaymentRegistered : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }

    public required long AccountId { get; init; }

    public required string PaymentId { get; init; }

    /// <summary>The payment's number (<c>document_id</c>), which the customer's bank transfer quotes.</summary>
    public string? PaymentNumber { get; init; }

    public string? PaymentStatus { get; init; }

    public required decimal Total { get; init; }

    public string? CurrencyCode { get; init; }

    /// <summary>True when an earlier message already created the payment for this key; no second payment was created.</summary>
    public required bool AlreadyApplied { get; init; }
}

/// <summary>The payment is cancelled in ActivePlatform. The key is the payment id.</summary>
public sealed record PaymentCancelled : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }

    public required string PaymentId { get; init; }

    public string? PaymentNumber { get; init; }

    public string? PaymentStatus { get; init; }

    /// <summary>True when the payment was already cancelled (by an earlier message or by hand); nothing was done again.</summary>
    public required bool AlreadyApplied { get; init; }
}

/// <summary>A payment message was not applied and will not be retried.</summary>
public sealed record PaymentRejected : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The rejected message's type, e.g. <c>CancelPayment</c>.</summary>
    public required string MessageType { get; init; }

    public required RejectionReason Reason { get; init; }

    /// <summary>A human-readable explanation, never containing secrets.</summary>
    public required string Description { get; init; }

    /// <summary>Field-level validation errors, for <see cref="RejectionReason.InvalidMessage"/>.</summary>
    public IReadOnlyList<string> ValidationErrors { get; init; } = [];

    /// <summary>ActivePlatform's error, for <see cref="RejectionReason.RejectedByActivePlatform"/>, e.g. the documented 422 title.</summary>
    public ActivePlatformError? ActivePlatformError { get; init; }
}
