namespace Bridge.Contracts;

/// <summary>The closing document is in ActivePlatform as sent.</summary>
public sealed record ClosingDocumentSent : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }
    public required long AccountId { get; init; }

    /// <summary>ActivePlatform's id of the closing document (<c>external_invoice_id</c>).</summary>
    public required string ExternalInvoiceId { get; init; }

    public required ClosingDocumentWriteOutcome Outcome { get; init; }

    public long? Revision { get; init; }
    public DateTimeOffset? ModifiedAt { get; init; }
}

/// <summary>
/// A version older than the one already applied (or one a delete came after) arrived late; it was not written. Also the
/// answer to a <see cref="DeleteClosingDocument"/> whose version is older than the one applied: nothing was deleted.
/// </summary>
public sealed record ClosingDocumentSkipped : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long AccountId { get; init; }
    public string? ExternalInvoiceId { get; init; }

    /// <summary>The ordering token of the skipped version.</summary>
    public required string SkippedVersion { get; init; }

    /// <summary>
    /// The ordering token of the newest version written. An update whose answer was lost counts as written once it can no
    /// longer land (whether ActivePlatform received it cannot be told): its own message sends it again, unless the document
    /// was deleted after it (<see cref="DeletedAfter"/>).
    /// </summary>
    public required string AppliedVersion { get; init; }

    /// <summary>
    /// True when a delete of the document was handled after <see cref="AppliedVersion"/> was written, or begun (a write whose
    /// answer was lost, which then may never have reached ActivePlatform): the skipped version must not bring the document
    /// back, and ActivePlatform holds no document for the key (<see cref="ExternalInvoiceId"/> is null).
    /// </summary>
    public bool DeletedAfter { get; init; }
}

public sealed record ClosingDocumentDeleted : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long AccountId { get; init; }

    /// <summary>The id the document had; null when ActivePlatform had no document with this key.</summary>
    public string? ExternalInvoiceId { get; init; }

    /// <summary>
    /// Whether this message's delete removed the document. False when ActivePlatform had no document with this key when the
    /// delete reached it: never sent, already deleted, or removed by something else (a manager by hand) between Bridge's
    /// lookup and its delete. False is still success: the document is not there.
    /// </summary>
    public required bool WasPresent { get; init; }

    /// <summary>
    /// The ordering token of a version of the document written after this delete, when one was before this message could be
    /// answered (this delete's answer was lost, and the next version's message found the document gone and created it
    /// again): ActivePlatform holds that version now, as its <see cref="ClosingDocumentSent"/> said — which may have been
    /// published before this event. Null when nothing was written after the delete.
    /// </summary>
    public string? SupersededBy { get; init; }
}

public sealed record ClosingDocumentsNotified : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required IReadOnlyList<long> AccountIds { get; init; }
    public required DateOnly StartDate { get; init; }
    public required DateOnly EndDate { get; init; }
}

/// <summary>The message was not applied and will not be retried.</summary>
public sealed record ClosingDocumentRejected : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The rejected message's type, e.g. <c>SendClosingDocument</c>.</summary>
    public required string MessageType { get; init; }

    public required RejectionReason Reason { get; init; }

    /// <summary>A human-readable explanation, never containing secrets.</summary>
    public required string Description { get; init; }

    /// <summary>Field-level validation errors, for <see cref="RejectionReason.InvalidMessage"/>.</summary>
    public IReadOnlyList<string> ValidationErrors { get; init; } = [];

    /// <summary>ActivePlatform's error, for <see cref="RejectionReason.RejectedByActivePlatform"/>.</summary>
    public ActivePlatformError? ActivePlatformError { get; init; }
}
