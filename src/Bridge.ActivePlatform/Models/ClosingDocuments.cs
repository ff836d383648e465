using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bridge.ActivePlatform.Models;

/// <summary>A closing document (<c>external_invoices</c>): акт, счёт or счёт-фактура sent from the ERP.</summary>
public sealed record ExternalInvoice : JsonApiResource
{
    public ExternalInvoiceAttributes Attributes { get; init; } = new();
}

public sealed record ExternalInvoiceAttributes
{
    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>The closing document's GUID in the ERP.</summary>
    public string? Key { get; init; }

    public string? Name { get; init; }

    /// <summary><c>act</c>, <c>invoice</c> or <c>invoice_vat</c> (kept as a string so a new type does not break reading).</summary>
    public string? Type { get; init; }

    public MoneyAmount? Amount { get; init; }

    public DateOnly? StartDate { get; init; }

    public DateOnly? EndDate { get; init; }

    /// <summary>The document in base64; the API omits it from some answers (e.g. DELETE).</summary>
    public string? File { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<ExternalInvoiceType>))]
public enum ExternalInvoiceType
{
    [JsonStringEnumMemberName("act")] Act,
    [JsonStringEnumMemberName("invoice")] Invoice,
    [JsonStringEnumMemberName("invoice_vat")] InvoiceVat,
}

/// <summary>What the pipeline writes: every field is required by the API on both POST and PATCH (PATCH is a full replacement).</summary>
public sealed record ClosingDocumentWrite
{
    /// <summary>The closing document's GUID in the ERP; the natural idempotency key.</summary>
    public required string Key { get; init; }

    public required ExternalInvoiceType Type { get; init; }

    public required string Name { get; init; }

    /// <summary>May be zero or negative (a correcting document).</summary>
    public required decimal Total { get; init; }

    /// <summary>ISO code of a currency configured in the platform.</summary>
    public required string Currency { get; init; }

    public required DateOnly StartDate { get; init; }

    public required DateOnly EndDate { get; init; }

    /// <summary>MIME type of the file: <c>application/pdf</c>, <c>application/msword</c> or the XLSX type.</summary>
    public required string FileContentType { get; init; }

    /// <summary>The file in base64 (without a <c>data:</c> prefix; one already present is kept as is).</summary>
    public required string FileContentBase64 { get; init; }

    // The file can be megabytes of base64: keep it out of logs and exception text.
    public override string ToString() =>
        $"ClosingDocumentWrite {{ Key = {Key}, Type = {Type}, Name = {Name}, Total = {Total}, Currency = {Currency}, " +
        $"StartDate = {StartDate:yyyy-MM-dd}, EndDate = {EndDate:yyyy-MM-dd}, File = {FileContentType}, {FileContentBase64.Length} base64 chars }}";
}
