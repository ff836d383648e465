using System.Globalization;

namespace Bridge.ActivePlatform.Models;

/// <summary>The body fields of POST/PATCH <c>external_invoices</c> exactly as they go on the wire.</summary>
public sealed record ExternalInvoiceWriteAttributes
{
    public required string Key { get; init; }

    public required string Type { get; init; }

    public required string Name { get; init; }

    public required MoneyWrite Amount { get; init; }

    public required DateOnly StartDate { get; init; }

    public required DateOnly EndDate { get; init; }

    /// <summary>A data URI: <c>data:application/pdf;base64,JVBERi0…</c> ("base64 including its MIME type").</summary>
    public required string File { get; init; }

    public override string ToString() =>
        $"ExternalInvoiceWriteAttributes {{ Key = {Key}, Type = {Type}, Name = {Name}, Amount = {Amount}, StartDate = {StartDate:yyyy-MM-dd}, EndDate = {EndDate:yyyy-MM-dd}, File = {File.Length} chars }}";

    public static ExternalInvoiceWriteAttributes From(ClosingDocumentWrite write)
    {
        ArgumentNullException.ThrowIfNull(write);
        return new ExternalInvoiceWriteAttributes
        {
            Key = write.Key,
            Type = write.Type switch
            {
                ExternalInvoiceType.Act => "act",
                ExternalInvoiceType.Invoice => "invoice",
                ExternalInvoiceType.InvoiceVat => "invoice_vat",
                _ => throw new ArgumentOutOfRangeException(nameof(write), write.Type, "Unknown closing document type."),
            },
            Name = write.Name,
            Amount = new MoneyWrite { Total = MoneyWrite.Format(write.Total), Currency = write.Currency },
            StartDate = write.StartDate,
            EndDate = write.EndDate,
            File = DataUri(write.FileContentType, write.FileContentBase64),
        };
    }

    public static string DataUri(string contentType, string base64) =>
        base64.StartsWith("data:", StringComparison.OrdinalIgnoreCase) ? base64 : $"data:{contentType};base64,{base64}";
}

/// <summary>Money as the API documents it in requests: a string total, <c>"123.45"</c>, in the invariant culture.</summary>
public sealed record MoneyWrite
{
    public required string Total { get; init; }

    public required string Currency { get; init; }

    /// <summary>At least two decimals, more only when the amount has them: 100 → "100.00", 1.2345 → "1.2345".</summary>
    public static string Format(decimal total) => total.ToString("0.00############", CultureInfo.InvariantCulture);
}

/// <summary>Envelope style A of the API: <c>{"data":{"attributes":{…}}}</c>, without <c>data.type</c> as in every documented example.</summary>
public sealed record DataAttributesEnvelope<TAttributes>
{
    public required DataAttributes<TAttributes> Data { get; init; }
}

public sealed record DataAttributes<TAttributes>
{
    public required TAttributes Attributes { get; init; }
}

/// <summary>The flat body of <c>POST notifications/external_invoices</c>.</summary>
public sealed record ClosingDocumentNotification
{
    public required IReadOnlyList<long> AccountIds { get; init; }

    public required DateOnly StartDate { get; init; }

    public required DateOnly EndDate { get; init; }
}
