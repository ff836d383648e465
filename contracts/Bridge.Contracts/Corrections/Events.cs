namespace Bridge.Contracts;

/// <summary>The correction exists in ActivePlatform, awaiting approval.</summary>
public sealed record CorrectionCreated : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }
    public required long AccountId { get; init; }

    /// <summary>ActivePlatform's id of the correction.</summary>
    public required string CorrectionId { get; init; }

    /// <summary>The status ActivePlatform gave the new correction: <c>approval_required</c>.</summary>
    public required string Status { get; init; }

    public required decimal Total { get; init; }

    /// <summary>True when this correction was already created for <see cref="Key"/> by an earlier message; nothing was written now.</summary>
    public required bool AlreadyApplied { get; init; }
}

public sealed record CorrectionApproved : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }
    public required string CorrectionId { get; init; }

    /// <summary>The approval date ActivePlatform recorded; null when the approval was already applied by an earlier message.</summary>
    public DateOnly? ApprovedAt { get; init; }

    public required bool AlreadyApplied { get; init; }
}

public sealed record CorrectionDeclined : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }
    public required string CorrectionId { get; init; }

    public required bool AlreadyApplied { get; init; }
}

/// <summary>The correction message was not applied and will not be retried.</summary>
public sealed record CorrectionRejected : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The rejected message's type, e.g. <c>ApproveCorrection</c>.</summary>
    public required string MessageType { get; init; }

    public required RejectionReason Reason { get; init; }

    /// <summary>A human-readable explanation, never containing secrets.</summary>
    public required string Description { get; init; }

    /// <summary>Field-level validation errors, for <see cref="RejectionReason.InvalidMessage"/>.</summary>
    public IReadOnlyList<string> ValidationErrors { get; init; } = [];

    /// <summary>ActivePlatform's error, for <see cref="RejectionReason.RejectedByActivePlatform"/>.</summary>
    public ActivePlatformError? ActivePlatformError { get; init; }
}
