using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.Contracts;

namespace Bridge.Tests.Contracts;

/// <summary>Instances of every command and event as Bridge and its publishers would write them: full ones and minimal ones.</summary>
internal static class ContractSamples
{
    /// <summary>System.Text.Json's web defaults (camelCase, case-insensitive reading); null properties are written.</summary>
    public static JsonSerializerOptions Web { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>The shape MassTransit's System.Text.Json serializer writes: camelCase, null properties left out, numbers only as numbers.</summary>
    public static JsonSerializerOptions MassTransitLike { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private const string DocumentKey = "0493e78a-e8ef-11e9-81b4-2a2ae2dbcce4";
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 15, 5, 2, 125, TimeSpan.Zero);
    private static readonly string PdfBase64 = Convert.ToBase64String(Encoding.ASCII.GetBytes("%PDF-1.4\n%\u00c7\u00ec\n%%EOF\n"));

    private static readonly Dictionary<Type, object[]> ByType = new()
    {
        [typeof(SendClosingDocument)] =
        [
            new SendClosingDocument
            {
                IdempotencyKey = $"1c:{DocumentKey}:3",
                ResellerId = 1,
                AccountId = 505,
                Key = DocumentKey,
                Type = ClosingDocumentType.Act,
                Name = "Акт № 118 от 30.11.2026",
                Amount = new Money(123.45m, "EUR"),
                StartDate = new DateOnly(2026, 11, 1),
                EndDate = new DateOnly(2026, 11, 30),
                File = new DocumentFile { ContentType = "application/pdf", ContentBase64 = PdfBase64, FileName = "act-118.pdf" },
                Revision = 3,
                ModifiedAt = new DateTimeOffset(2026, 11, 30, 18, 5, 0, TimeSpan.FromHours(3)),
            },
            new SendClosingDocument
            {
                AccountId = 505,
                Key = DocumentKey,
                Type = ClosingDocumentType.InvoiceVat,
                Name = "Счёт-фактура 77",
                Amount = new Money(-10m, "RUB"),
                StartDate = new DateOnly(2026, 11, 1),
                EndDate = new DateOnly(2026, 11, 30),
                File = new DocumentFile { ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ContentBase64 = "UEsDBBQAAAAIAA==" },
                ModifiedAt = Now,
            },
        ],
        [typeof(DeleteClosingDocument)] =
        [
            new DeleteClosingDocument { IdempotencyKey = "delete-1", ResellerId = 1, AccountId = 505, Key = DocumentKey },
            new DeleteClosingDocument { AccountId = 505, Key = DocumentKey },
        ],
        [typeof(NotifyClosingDocuments)] =
        [
            new NotifyClosingDocuments
            {
                IdempotencyKey = "notify-2026-11",
                ResellerId = 1,
                Key = "notify-2026-11",
                AccountIds = [2003421, 2003565],
                StartDate = new DateOnly(2026, 11, 1),
                EndDate = new DateOnly(2026, 11, 30),
            },
            new NotifyClosingDocuments { Key = "n", AccountIds = [1], StartDate = new DateOnly(2026, 11, 1), EndDate = new DateOnly(2026, 11, 30) },
        ],
        [typeof(ClosingDocumentSent)] =
        [
            new ClosingDocumentSent
            {
                Key = DocumentKey, MessageId = "m-1", CorrelationId = "c-1", OccurredAt = Now,
                ResellerId = 1, AccountId = 505, ExternalInvoiceId = "277", Outcome = ClosingDocumentWriteOutcome.Created,
                Revision = 3, ModifiedAt = Now,
            },
            new ClosingDocumentSent
            {
                Key = DocumentKey, MessageId = "m-2", CorrelationId = "c-2", OccurredAt = Now,
                ResellerId = 1, AccountId = 505, ExternalInvoiceId = "277", Outcome = ClosingDocumentWriteOutcome.Updated,
            },
        ],
        [typeof(ClosingDocumentSkipped)] =
        [
            new ClosingDocumentSkipped
            {
                Key = DocumentKey, MessageId = "m-3", CorrelationId = "c-3", OccurredAt = Now,
                AccountId = 505, ExternalInvoiceId = "277", SkippedVersion = "2", AppliedVersion = "3",
            },
            new ClosingDocumentSkipped
            {
                Key = DocumentKey, MessageId = "m-4", CorrelationId = "c-4", OccurredAt = Now,
                AccountId = 505, SkippedVersion = "2026-11-01T00:00:00+00:00", AppliedVersion = "2026-11-02T00:00:00+00:00",
            },
        ],
        [typeof(ClosingDocumentDeleted)] =
        [
            new ClosingDocumentDeleted { Key = DocumentKey, MessageId = "m-5", CorrelationId = "c-5", OccurredAt = Now, AccountId = 505, ExternalInvoiceId = "277", WasPresent = true },
            new ClosingDocumentDeleted { Key = DocumentKey, MessageId = "m-6", CorrelationId = "c-6", OccurredAt = Now, AccountId = 505, WasPresent = false },
        ],
        [typeof(ClosingDocumentsNotified)] =
        [
            new ClosingDocumentsNotified
            {
                Key = "notify-2026-11", MessageId = "m-7", CorrelationId = "c-7", OccurredAt = Now,
                AccountIds = [2003421, 2003565], StartDate = new DateOnly(2026, 11, 1), EndDate = new DateOnly(2026, 11, 30),
            },
        ],
        [typeof(ClosingDocumentRejected)] =
        [
            new ClosingDocumentRejected
            {
                Key = DocumentKey, MessageId = "m-8", CorrelationId = "c-8", OccurredAt = Now,
                MessageType = nameof(SendClosingDocument), Reason = RejectionReason.RejectedByActivePlatform,
                Description = "ActivePlatform refused the closing document (422).",
                ActivePlatformError = new ActivePlatformError("Validation failed", 422, null),
            },
            new ClosingDocumentRejected
            {
                Key = "", MessageId = "m-9", CorrelationId = "c-9", OccurredAt = Now,
                MessageType = nameof(SendClosingDocument), Reason = RejectionReason.InvalidMessage,
                Description = "The message failed validation.", ValidationErrors = ["amount.currency: must be an ISO 4217 code"],
            },
            new ClosingDocumentRejected
            {
                Key = DocumentKey, MessageId = "m-10", CorrelationId = "c-10", OccurredAt = Now,
                MessageType = nameof(DeleteClosingDocument), Reason = RejectionReason.IdempotencyConflict,
                Description = "The idempotency key was already used for a different payload.",
                ActivePlatformError = new ActivePlatformError(null, 400, "INVOICE-0001"),
            },
        ],
        [typeof(ErpMessageDeadLettered)] =
        [
            new ErpMessageDeadLettered
            {
                Key = DocumentKey, MessageId = "m-11", CorrelationId = "c-11", OccurredAt = Now,
                DeadLetterId = new Guid("0d8e3b4e-6f3a-4c1d-9a51-7a1c2e3f4b5d"), MessageType = nameof(SendClosingDocument),
                Queue = "bridge.send-closing-document", ExceptionType = "Bridge.ActivePlatform.ActivePlatformServerException",
                Reason = "ActivePlatform answered 503.", FailureCount = 2,
            },
            new ErpMessageDeadLettered
            {
                Key = "", MessageId = "", CorrelationId = "0d8e3b4e-6f3a-4c1d-9a51-7a1c2e3f4b5d", OccurredAt = Now,
                DeadLetterId = new Guid("0d8e3b4e-6f3a-4c1d-9a51-7a1c2e3f4b5d"), MessageType = nameof(SendClosingDocument),
                Queue = "bridge.send-closing-document", ExceptionType = "System.Text.Json.JsonException",
                Reason = "'t' is an invalid start of a property name.", FailureCount = 1,
            },
        ],
    };

    public static IReadOnlyList<object> For(Type messageType) =>
        ByType.TryGetValue(messageType, out var samples) ? samples : [];
}
