namespace Bridge.Contracts;

/// <summary>
/// Approve a closed postpaid invoice with the ERP's own invoice: ActivePlatform takes the ERP's <see cref="DocumentId"/> as the
/// invoice's number and gives the linked payment its due date. Address the invoice by <see cref="AccountId"/> (an account with
/// one invoice in the period) or by ActivePlatform's <see cref="InvoiceId"/>; <see cref="BillingDate"/> is always required.
/// </summary>
public sealed record ApproveInvoice
{
    /// <summary>Explicit idempotency key, for publishers that cannot set the AMQP <c>message_id</c>.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>ActivePlatform reseller; the configured default reseller when absent.</summary>
    public long? ResellerId { get; init; }

    /// <summary>The ERP's invoice number; with the operation, the natural key.</summary>
    public required string DocumentId { get; init; }

    /// <summary>The start date of the billing period; matches the ERP invoice to ActivePlatform's.</summary>
    public required DateOnly BillingDate { get; init; }

    /// <summary>The account whose single invoice of the period is meant; either this or <see cref="InvoiceId"/>.</summary>
    public long? AccountId { get; init; }

    /// <summary>ActivePlatform's invoice id; either this or <see cref="AccountId"/>.</summary>
    public string? InvoiceId { get; init; }

    /// <summary>The amount and currency of the ERP's invoice, when they differ from ActivePlatform's.</summary>
    public Money? ExternalAmount { get; init; }

    /// <summary>The payment's due date; ActivePlatform's default when absent.</summary>
    public DateOnly? DueDate { get; init; }
}

/// <summary>The customer paid the ERP's invoice: complete the approved invoice (its linked payment is completed).</summary>
public sealed record CompleteInvoice
{
    public string? IdempotencyKey { get; init; }

    public long? ResellerId { get; init; }

    /// <summary>The ERP's invoice number, as it was approved.</summary>
    public required string DocumentId { get; init; }

    public required DateOnly BillingDate { get; init; }

    public long? AccountId { get; init; }

    public string? InvoiceId { get; init; }
}

/// <summary>
/// Undo an approval (the invoice is unapproved again, the payment loses its due date). ActivePlatform revokes by invoice id
/// only: without <see cref="InvoiceId"/>, Bridge uses the id it recorded when it approved <see cref="DocumentId"/>.
/// </summary>
public sealed record RevokeInvoiceApproval
{
    public string? IdempotencyKey { get; init; }

    public long? ResellerId { get; init; }

    /// <summary>The ERP's invoice number, as it was approved.</summary>
    public required string DocumentId { get; init; }

    public required DateOnly BillingDate { get; init; }

    public long? AccountId { get; init; }

    public string? InvoiceId { get; init; }
}
