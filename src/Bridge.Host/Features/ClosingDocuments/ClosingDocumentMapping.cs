using Bridge.ActivePlatform.Models;
using Bridge.Contracts;

namespace Bridge.Host.Features.ClosingDocuments;

public static class ClosingDocumentMapping
{
    public static ClosingDocumentWrite ToWrite(SendClosingDocument message) => new()
    {
        Key = message.Key,
        Type = message.Type switch
        {
            ClosingDocumentType.Act => ExternalInvoiceType.Act,
            ClosingDocumentType.Invoice => ExternalInvoiceType.Invoice,
            ClosingDocumentType.InvoiceVat => ExternalInvoiceType.InvoiceVat,
            _ => throw new ArgumentOutOfRangeException(nameof(message), message.Type, "Unknown closing document type."),
        },
        Name = message.Name,
        Total = message.Amount.Total,
        Currency = message.Amount.Currency,
        StartDate = message.StartDate,
        EndDate = message.EndDate,
        FileContentType = message.File.ContentType,
        FileContentBase64 = message.File.ContentBase64,
    };
}
