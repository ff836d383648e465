namespace Bridge.Contracts;

/// <summary>
/// Create a correction (a manual balance or debt adjustment) in ActivePlatform, in <c>approval_required</c> status.
/// <see cref="Key"/> is the ERP's correction id: the same correction republished under a new message id is not created twice.
/// </summary>
public sealed record CreateCorrection
{
    /// <summary>Explicit idempotency key, for publishers that cannot set the AMQP <c>message_id</c>.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>ActivePlatform reseller; the configured default reseller when absent.</summary>
    public long? ResellerId { get; init; }

    /// <summary>The correction's id in the ERP.</summary>
    public required string Key { get; init; }

    public required long AccountId { get; init; }

    /// <summary>True: the correction lands in the invoice of the billing period in which it is approved.</summary>
    public required bool IncludedInvoice { get; init; }

    /// <summary>Required when <see cref="IncludedInvoice"/> is true.</summary>
    public long? SubscriptionId { get; init; }

    /// <summary>Required when <see cref="IncludedInvoice"/> is true; informational only.</summary>
    public DateOnly? PeriodFrom { get; init; }

    /// <summary>Required when <see cref="IncludedInvoice"/> is true; informational only.</summary>
    public DateOnly? PeriodTo { get; init; }

    /// <summary>Signed amount in the account's currency, non-zero, at most two decimals: positive credits, negative debits.</summary>
    public required decimal Total { get; init; }

    public string? Comment { get; init; }
}

/// <summary>
/// Approve a correction that is in <c>approval_required</c>. Addressed by the ERP's <see cref="Key"/>: Bridge uses the
/// ActivePlatform id it recorded when it created the correction; <see cref="CorrectionId"/> names the correction directly
/// (required for corrections not created through Bridge).
/// </summary>
public sealed record ApproveCorrection
{
    public string? IdempotencyKey { get; init; }

    public long? ResellerId { get; init; }

    /// <summary>The correction's id in the ERP, as in <see cref="CreateCorrection"/>.</summary>
    public required string Key { get; init; }

    /// <summary>ActivePlatform's correction id; optional when the correction was created through Bridge with <see cref="Key"/>.</summary>
    public string? CorrectionId { get; init; }
}

/// <summary>Decline a correction that is in <c>approval_required</c>; addressed as <see cref="ApproveCorrection"/>.</summary>
public sealed record DeclineCorrection
{
    public string? IdempotencyKey { get; init; }

    public long? ResellerId { get; init; }

    public required string Key { get; init; }

    public string? CorrectionId { get; init; }
}
