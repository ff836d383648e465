using System.Text.Json.Serialization;

namespace Bridge.Contracts;

/// <summary>Every result event answers one incoming message and is correlated to the ERP's own key.</summary>
public interface IResultEvent
{
    /// <summary>The ERP's key of the document or operation.</summary>
    string Key { get; }

    /// <summary>The idempotency key of the incoming message: its message id, or its explicit <c>IdempotencyKey</c>.</summary>
    string MessageId { get; }

    string CorrelationId { get; }

    DateTimeOffset OccurredAt { get; }
}

/// <summary>A money amount. Sent as a decimal, never a float.</summary>
public sealed record Money(decimal Total, string Currency);

/// <summary>A file travelling as base64 with its MIME type.</summary>
public sealed record DocumentFile
{
    /// <summary>MIME type: application/pdf, application/msword or the XLSX type.</summary>
    public required string ContentType { get; init; }

    public required string ContentBase64 { get; init; }

    public string? FileName { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<ClosingDocumentType>))]
public enum ClosingDocumentType
{
    [JsonStringEnumMemberName("act")] Act,
    [JsonStringEnumMemberName("invoice")] Invoice,
    [JsonStringEnumMemberName("invoice_vat")] InvoiceVat,
}

[JsonConverter(typeof(JsonStringEnumConverter<ClosingDocumentWriteOutcome>))]
public enum ClosingDocumentWriteOutcome
{
    Created,
    Updated,
}

[JsonConverter(typeof(JsonStringEnumConverter<RejectionReason>))]
public enum RejectionReason
{
    /// <summary>The message failed validation or could not be read; it never reached ActivePlatform.</summary>
    InvalidMessage,

    /// <summary>ActivePlatform refused the request with a permanent (4xx) error.</summary>
    RejectedByActivePlatform,

    /// <summary>The idempotency key was already used for a different payload.</summary>
    IdempotencyConflict,
}

/// <summary>ActivePlatform's error as it answered: title, HTTP status and, for invoice management, its code.</summary>
public sealed record ActivePlatformError(string? Title, int Status, string? Code);
