namespace Bridge.Contracts;

/// <summary>The invoice is approved in ActivePlatform with the ERP's document id; its payment has a due date.</summary>
public sealed record InvoiceApproved : IResultEvent
{
    /// <summary>The ERP's invoice number (<c>documentId</c>).</summary>
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }

    /// <summary>ActivePlatform's invoice id.</summary>
    public required string InvoiceId { get; init; }

    public long? AccountId { get; init; }
    public required DateOnly BillingDate { get; init; }

    /// <summary>True when an earlier message already approved this document id (or completed it); nothing was sent now.</summary>
    public required bool AlreadyApplied { get; init; }
}

/// <summary>The invoice is completed in ActivePlatform: its linked payment is completed.</summary>
public sealed record InvoiceCompleted : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }
    public required string InvoiceId { get; init; }
    public long? AccountId { get; init; }
    public required DateOnly BillingDate { get; init; }

    /// <summary>The linked payment's id, when ActivePlatform's answer named it.</summary>
    public string? PaymentId { get; init; }

    public required bool AlreadyApplied { get; init; }
}

/// <summary>The invoice's approval is revoked: it is unapproved again and its payment has no due date.</summary>
public sealed record InvoiceApprovalRevoked : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }
    public required string InvoiceId { get; init; }
    public long? AccountId { get; init; }
    public required DateOnly BillingDate { get; init; }

    public required bool AlreadyApplied { get; init; }
}

/// <summary>The invoice message was not applied and will not be retried; ActivePlatform's <c>INVOICE-00xx</c> code is in the error.</summary>
public sealed record InvoiceRejected : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The rejected message's type, e.g. <c>CompleteInvoice</c>.</summary>
    public required string MessageType { get; init; }

    public required RejectionReason Reason { get; init; }

    /// <summary>A human-readable explanation, never containing secrets.</summary>
    public required string Description { get; init; }

    /// <summary>Field-level validation errors, for <see cref="RejectionReason.InvalidMessage"/>.</summary>
    public IReadOnlyList<string> ValidationErrors { get; init; } = [];

    /// <summary>ActivePlatform's error with its code (e.g. <c>INVOICE-0017</c>), for <see cref="RejectionReason.RejectedByActivePlatform"/>.</summary>
    public ActivePlatformError? ActivePlatformError { get; init; }
}
