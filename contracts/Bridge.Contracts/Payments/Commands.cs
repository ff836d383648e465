using System.Text.Json.Serialization;

namespace Bridge.Contracts;

/// <summary>How <see cref="CompletePayment"/> completes the payment; each mode needs its own fields.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PaymentCompletionMode>))]
public enum PaymentCompletionMode
{
    /// <summary>
    /// The bank statement names the payment by its number (<c>document_id</c>): <see cref="CompletePayment.PaymentNumber"/>,
    /// <see cref="CompletePayment.PaymentMethodId"/> and <see cref="CompletePayment.ExternalTransactionId"/> are required,
    /// <see cref="CompletePayment.Amount"/> and <see cref="CompletePayment.CurrencyCode"/> optional. The paid amount may
    /// differ from the payment's: ActivePlatform then books the difference as a correction.
    /// </summary>
    ByPaymentNumber,

    /// <summary>By ActivePlatform's payment id: <see cref="CompletePayment.PaymentId"/> and <see cref="CompletePayment.PaymentMethodId"/>.</summary>
    ById,

    /// <summary>From the account's balance: <see cref="CompletePayment.PaymentId"/> only. Not for top-up payments.</summary>
    FromBalance,
}

/// <summary>
/// The ERP's bank statement says money arrived for a payment: complete it in ActivePlatform. The natural key of a
/// completion by number is (<see cref="PaymentNumber"/>, <see cref="ExternalTransactionId"/>): the same statement line
/// republished under a new message id completes or corrects nothing a second time.
/// </summary>
public sealed record CompletePayment
{
    public string? IdempotencyKey { get; init; }

    public long? ResellerId { get; init; }

    public required PaymentCompletionMode Mode { get; init; }

    /// <summary>The payment's number (<c>document_id</c>, e.g. <c>002018</c>), for <see cref="PaymentCompletionMode.ByPaymentNumber"/>.</summary>
    public string? PaymentNumber { get; init; }

    /// <summary>ActivePlatform's payment id, for <see cref="PaymentCompletionMode.ById"/> and <see cref="PaymentCompletionMode.FromBalance"/>.</summary>
    public string? PaymentId { get; init; }

    /// <summary>ActivePlatform's payment method (e.g. 2 = Cash), for <see cref="PaymentCompletionMode.ByPaymentNumber"/> and <see cref="PaymentCompletionMode.ById"/>.</summary>
    public long? PaymentMethodId { get; init; }

    /// <summary>The amount received, for <see cref="PaymentCompletionMode.ByPaymentNumber"/>; the payment's own total when absent.</summary>
    public decimal? Amount { get; init; }

    /// <summary>ISO 4217 code of <see cref="Amount"/>; must be the payment's currency.</summary>
    public string? CurrencyCode { get; init; }

    /// <summary>The bank statement line's id in the ERP (2–255 characters), for <see cref="PaymentCompletionMode.ByPaymentNumber"/>.</summary>
    public string? ExternalTransactionId { get; init; }
}

/// <summary>Create a top-up payment (waiting for payment) for an account; <see cref="Key"/> is the ERP's own key for it.</summary>
public sealed record RegisterPayment
{
    public string? IdempotencyKey { get; init; }

    public long? ResellerId { get; init; }

    /// <summary>The ERP's key of this top-up (e.g. its invoice-for-payment GUID); one payment is created per key.</summary>
    public required string Key { get; init; }

    public required long AccountId { get; init; }

    /// <summary>The amount to pay, in the account's currency (ActivePlatform picks the currency).</summary>
    public required decimal Total { get; init; }

    public required string Comment { get; init; }

    /// <summary>Text shown on the receipt.</summary>
    public string? Purpose { get; init; }
}

/// <summary>Cancel a payment that is still waiting for payment and not linked to a postpaid invoice.</summary>
public sealed record CancelPayment
{
    public string? IdempotencyKey { get; init; }

    public long? ResellerId { get; init; }

    /// <summary>ActivePlatform's payment id.</summary>
    public required string PaymentId { get; init; }
}
