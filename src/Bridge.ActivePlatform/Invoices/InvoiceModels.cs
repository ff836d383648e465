using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Invoices;

/// <summary>An invoice (<c>invoices</c>); relationships name its <c>payments</c>, <c>charges</c>, <c>subscriptions</c>, <c>corrections</c>.</summary>
public sealed record Invoice : JsonApiResource
{
    public InvoiceAttributes Attributes { get; set; } = new();

    /// <summary>The linked payment, as the <c>payments</c> relationship names it.</summary>
    [JsonIgnore]
    public string? PaymentId => Relationships is { } relationships && relationships.TryGetValue("payments", out var payments)
        ? payments.Data?.FirstOrDefault()?.Id
        : null;
}

public sealed record InvoiceAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }

    public ApiTimestamp? UpdatedAt { get; set; }

    /// <summary>The invoice's number; the ERP's document id once approved.</summary>
    public string? DocumentId { get; set; }

    /// <summary><c>open</c>, <c>closed</c>, … (a string, so a new status does not break reading).</summary>
    public string? Status { get; set; }

    public ApiDecimal? Total { get; set; }

    public long? AccountId { get; set; }

    public DateOnly? FromDate { get; set; }

    public DateOnly? ToDate { get; set; }

    /// <summary><c>postpay</c> or <c>prepay</c>.</summary>
    public string? PaymentModel { get; set; }

    /// <summary>Sent as the string <c>"true"</c> in the documented example.</summary>
    public ApiBoolean? Approved { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>Which invoice an operation addresses: the account's single invoice of the period, or an invoice id.</summary>
public sealed record InvoiceTarget(long? AccountId, string? InvoiceId)
{
    public static InvoiceTarget ByAccount(long accountId) => new(accountId, null);

    public static InvoiceTarget ById(string invoiceId) => new(null, invoiceId);
}

/// <summary>The flat body of approve, complete and revoke. The optional approve fields' names are not documented [INFERRED].</summary>
public sealed record InvoiceActionBody
{
    public required string DocumentId { get; init; }

    public required DateOnly BillingDate { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ExternalTotal { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ExternalCurrency { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateOnly? DueDate { get; init; }
}

/// <summary>What an approval may carry besides the document id and billing date.</summary>
public sealed record InvoiceApproval
{
    public required string DocumentId { get; init; }

    public required DateOnly BillingDate { get; init; }

    public decimal? ExternalTotal { get; init; }

    public string? ExternalCurrency { get; init; }

    public DateOnly? DueDate { get; init; }
}
