using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Payments;

/// <summary>A payment (<c>payments</c>). Money arrives as strings (<c>"199.99"</c>), foreign keys as numbers; both are read either way.</summary>
public sealed record Payment : JsonApiResource
{
    public PaymentAttributes Attributes { get; set; } = new();

    /// <summary>Ids of the payment's corrections, from <c>relationships.corrections</c>.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> CorrectionIds =>
        Relationships?.GetValueOrDefault("corrections")?.Data?.Select(r => r.Id).ToList() ?? [];
}

public sealed record PaymentAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }

    public ApiTimestamp? UpdatedAt { get; set; }

    public long? AccountId { get; set; }

    public ApiDecimal? DiscountAmount { get; set; }

    public ApiDecimal? Total { get; set; }

    public ApiDecimal? AmountPaidFromBalance { get; set; }

    public ApiDecimal? InitialTotal { get; set; }

    public string? CurrencyCode { get; set; }

    public string? Comment { get; set; }

    /// <summary>Kept as a string: <c>waiting_for_payment</c>, <c>completed</c>, … (see <see cref="PaymentStatuses"/>); an unknown one does not break reading.</summary>
    public string? Status { get; set; }

    /// <summary>The payment number, e.g. <c>002018</c>.</summary>
    public string? DocumentId { get; set; }

    public DateOnly? ExpirationDate { get; set; }

    public long? PaymentMethodId { get; set; }

    public string? RequesterIp { get; set; }

    public long? ManagerId { get; set; }

    public string? Purpose { get; set; }

    public ApiDecimal? ExternalTotal { get; set; }

    public string? ExternalCurrency { get; set; }

    public DateOnly? DueDate { get; set; }

    public string? PaymentMethodName { get; set; }

    public ApiTimestamp? ClosedAt { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public static class PaymentStatuses
{
    public const string WaitingForPayment = "waiting_for_payment";
    public const string Expired = "expired";
    public const string Completed = "completed";
    public const string PaidFromBalance = "paid_from_balance";
    public const string Cancelled = "cancelled";
    public const string PendingBilling = "pending_billing";

    /// <summary>"Closed" in the documented completion matrix: pending billing, completed, paid from balance or cancelled.</summary>
    public static bool IsClosed(string? status) => status is PendingBilling or Completed or PaidFromBalance or Cancelled;
}

/// <summary>A correction, as <c>include=corrections</c> returns it.</summary>
public sealed record PaymentCorrectionAttributes
{
    public long? AccountId { get; init; }

    public string? Status { get; init; }

    public decimal? Total { get; init; }

    public string? Comment { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A top-up payment to create.</summary>
public sealed record TopUpPayment(long AccountId, decimal Total, string Comment, string? Purpose);

/// <summary>Completion by payment number: what the bank statement says arrived.</summary>
public sealed record PaymentCompletionByNumber(long PaymentMethodId, decimal? Amount, string? CurrencyCode, string? ExternalTransactionId);

/// <summary>Filters of <c>GET payments</c>: complete keys (<c>filter[created_at][gt]</c>) or field names (<c>document_id</c>).</summary>
public sealed record PaymentQuery
{
    public IReadOnlyDictionary<string, string>? Filters { get; init; }

    public int PageSize { get; init; } = 50;

    public int MaxPages { get; init; } = 1_000;
}

/// <summary>Body of POST <c>payments</c>: money as a JSON number, as the docs' example sends it.</summary>
public sealed record TopUpPaymentWrite
{
    public required long AccountId { get; init; }

    public required decimal Total { get; init; }

    public required string Comment { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Purpose { get; init; }
}

public sealed record PaymentMethodWrite
{
    public required long PaymentMethodId { get; init; }
}

public sealed record PaymentStatusWrite
{
    public required string Status { get; init; }
}

/// <summary>Body of POST <c>payments/{document_id}</c>; the RG page types <c>payment_method_id</c> as a string.</summary>
public sealed record PaymentCompletionByNumberWrite
{
    public required string PaymentMethodId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public decimal? Amount { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CurrencyCode { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ExternalTransactionId { get; init; }

    public static PaymentCompletionByNumberWrite From(PaymentCompletionByNumber completion)
    {
        ArgumentNullException.ThrowIfNull(completion);
        return new PaymentCompletionByNumberWrite
        {
            PaymentMethodId = completion.PaymentMethodId.ToString(CultureInfo.InvariantCulture),
            Amount = completion.Amount,
            CurrencyCode = completion.CurrencyCode,
            ExternalTransactionId = completion.ExternalTransactionId,
        };
    }
}
