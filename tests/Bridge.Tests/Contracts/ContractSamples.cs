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
                AccountId = 505, SkippedVersion = "2026-11-01T00:00:00+00:00", AppliedVersion = "2026-11-02T00:00:00+00:00", DeletedAfter = true,
            },
        ],
        [typeof(ClosingDocumentDeleted)] =
        [
            new ClosingDocumentDeleted { Key = DocumentKey, MessageId = "m-5", CorrelationId = "c-5", OccurredAt = Now, AccountId = 505, ExternalInvoiceId = "277", WasPresent = true },
            new ClosingDocumentDeleted { Key = DocumentKey, MessageId = "m-5b", CorrelationId = "c-5b", OccurredAt = Now, AccountId = 505, ExternalInvoiceId = "277", WasPresent = true, SupersededBy = "revision 4" },
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
        [typeof(UpdateCurrencyRates)] =
        [
            new UpdateCurrencyRates
            {
                IdempotencyKey = "1c:rates:2026-11-30",
                ResellerId = 1,
                Key = "rates-2026-11-30",
                EffectiveAt = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.FromHours(3)),
                Rates =
                [
                    new CurrencyRate { BaseCurrency = "RUB", ForeignCurrency = "USD", Quantity = 1, Rate = 92.5m, Adjustment = 1.02m, ShowForClient = true },
                    new CurrencyRate { BaseCurrency = "RUB", ForeignCurrency = "KZT", Quantity = 100, Rate = 18.44m },
                ],
            },
            new UpdateCurrencyRates
            {
                Key = "r",
                EffectiveAt = Now,
                Rates = [new CurrencyRate { BaseCurrency = "USD", ForeignCurrency = "EUR", Quantity = 1, Rate = 0.0001m, Adjustment = 1000m }],
            },
        ],
        [typeof(CurrencyRatesUpdated)] =
        [
            new CurrencyRatesUpdated
            {
                Key = "rates-2026-11-30", MessageId = "m-11", CorrelationId = "c-11", OccurredAt = Now,
                ResellerId = 1, EffectiveAt = Now, AlreadyApplied = false,
                Applied = [new CurrencyRate { BaseCurrency = "RUB", ForeignCurrency = "USD", Quantity = 1, Rate = 92.5m, ShowForClient = false }],
                Unchanged = [new CurrencyPair("RUB", "EUR")],
                Skipped = [new SkippedCurrencyPair("RUB", "KZT", Now.AddHours(1))],
            },
            new CurrencyRatesUpdated
            {
                Key = "rates-2026-11-30", MessageId = "m-12", CorrelationId = "c-12", OccurredAt = Now,
                ResellerId = 1, EffectiveAt = Now, AlreadyApplied = true, Applied = [],
            },
        ],
        [typeof(CurrencyRatesSkipped)] =
        [
            new CurrencyRatesSkipped
            {
                Key = "rates-2026-11-29", MessageId = "m-13", CorrelationId = "c-13", OccurredAt = Now,
                ResellerId = 1, EffectiveAt = Now.AddDays(-1), Skipped = [new SkippedCurrencyPair("RUB", "USD", Now)],
            },
        ],
        [typeof(CurrencyRatesRejected)] =
        [
            new CurrencyRatesRejected
            {
                Key = "rates-2026-11-30", MessageId = "m-14", CorrelationId = "c-14", OccurredAt = Now,
                MessageType = nameof(UpdateCurrencyRates), Reason = RejectionReason.RejectedByActivePlatform,
                Description = "ActivePlatform refused the request (422).",
                ActivePlatformError = new ActivePlatformError("Foreign currency XTS is not available", 422, null),
            },
            new CurrencyRatesRejected
            {
                Key = "", MessageId = "m-15", CorrelationId = "c-15", OccurredAt = Now,
                MessageType = nameof(UpdateCurrencyRates), Reason = RejectionReason.InvalidMessage,
                Description = "The message failed validation.", ValidationErrors = ["rates: at least one rate is required"],
            },
        ],
        [typeof(CreateCorrection)] =
        [
            new CreateCorrection
            {
                IdempotencyKey = "1c:correction:corr-118", ResellerId = 1, Key = "corr-118", AccountId = 505, IncludedInvoice = true,
                SubscriptionId = 3010001, PeriodFrom = new DateOnly(2026, 11, 1), PeriodTo = new DateOnly(2026, 11, 30), Total = 100.25m, Comment = "Возврат",
            },
            new CreateCorrection { Key = "corr-119", AccountId = 505, IncludedInvoice = false, Total = -50.5m },
        ],
        [typeof(ApproveCorrection)] =
        [
            new ApproveCorrection { IdempotencyKey = "approve-118", ResellerId = 1, Key = "corr-118", CorrectionId = "738" },
            new ApproveCorrection { Key = "corr-118" },
        ],
        [typeof(DeclineCorrection)] =
        [
            new DeclineCorrection { IdempotencyKey = "decline-119", ResellerId = 1, Key = "corr-119", CorrectionId = "739" },
            new DeclineCorrection { Key = "corr-119" },
        ],
        [typeof(CorrectionCreated)] =
        [
            new CorrectionCreated
            {
                Key = "corr-118", MessageId = "m-11", CorrelationId = "c-11", OccurredAt = Now,
                ResellerId = 1, AccountId = 505, CorrectionId = "738", Status = "approval_required", Total = 100.25m, AlreadyApplied = false,
            },
        ],
        [typeof(CorrectionApproved)] =
        [
            new CorrectionApproved { Key = "corr-118", MessageId = "m-12", CorrelationId = "c-12", OccurredAt = Now, ResellerId = 1, CorrectionId = "738", ApprovedAt = new DateOnly(2026, 11, 30), AlreadyApplied = false },
            new CorrectionApproved { Key = "corr-118", MessageId = "m-13", CorrelationId = "c-13", OccurredAt = Now, ResellerId = 1, CorrectionId = "738", AlreadyApplied = true },
        ],
        [typeof(CorrectionDeclined)] =
        [
            new CorrectionDeclined { Key = "corr-119", MessageId = "m-14", CorrelationId = "c-14", OccurredAt = Now, ResellerId = 1, CorrectionId = "739", AlreadyApplied = false },
        ],
        [typeof(CorrectionRejected)] =
        [
            new CorrectionRejected
            {
                Key = "corr-119", MessageId = "m-15", CorrelationId = "c-15", OccurredAt = Now,
                MessageType = nameof(ApproveCorrection), Reason = RejectionReason.RejectedByActivePlatform,
                Description = "ActivePlatform refused the request (422).",
                ActivePlatformError = new ActivePlatformError("Status can be changed only for a correction in approval_required status", 422, null),
            },
            new CorrectionRejected
            {
                Key = "", MessageId = "m-16", CorrelationId = "c-16", OccurredAt = Now,
                MessageType = nameof(CreateCorrection), Reason = RejectionReason.InvalidMessage,
                Description = "The message failed validation.", ValidationErrors = ["total: must not be zero"],
            },
        ],
        [typeof(ApproveInvoice)] =
        [
            new ApproveInvoice
            {
                IdempotencyKey = "approve-NS2000015", ResellerId = 1, DocumentId = "NS2000015", BillingDate = new DateOnly(2026, 10, 1), AccountId = 167,
                ExternalAmount = new Money(987.65m, "EUR"), DueDate = new DateOnly(2026, 11, 15),
            },
            new ApproveInvoice { DocumentId = "NS2000016", BillingDate = new DateOnly(2026, 10, 1), InvoiceId = "2046" },
        ],
        [typeof(CompleteInvoice)] =
        [
            new CompleteInvoice { IdempotencyKey = "complete-NS2000015", ResellerId = 1, DocumentId = "NS2000015", BillingDate = new DateOnly(2026, 10, 1), AccountId = 167 },
            new CompleteInvoice { DocumentId = "NS2000016", BillingDate = new DateOnly(2026, 10, 1), InvoiceId = "2046" },
        ],
        [typeof(RevokeInvoiceApproval)] =
        [
            new RevokeInvoiceApproval { IdempotencyKey = "revoke-NS2000015", ResellerId = 1, DocumentId = "NS2000015", BillingDate = new DateOnly(2026, 10, 1), AccountId = 167, InvoiceId = "2046" },
            new RevokeInvoiceApproval { DocumentId = "NS2000015", BillingDate = new DateOnly(2026, 10, 1) },
        ],
        [typeof(InvoiceApproved)] =
        [
            new InvoiceApproved { Key = "NS2000015", MessageId = "m-17", CorrelationId = "c-17", OccurredAt = Now, ResellerId = 1, InvoiceId = "2046", AccountId = 167, BillingDate = new DateOnly(2026, 10, 1), AlreadyApplied = false },
            new InvoiceApproved { Key = "NS2000015", MessageId = "m-18", CorrelationId = "c-18", OccurredAt = Now, ResellerId = 1, InvoiceId = "2046", BillingDate = new DateOnly(2026, 10, 1), AlreadyApplied = true },
        ],
        [typeof(InvoiceCompleted)] =
        [
            new InvoiceCompleted { Key = "NS2000015", MessageId = "m-19", CorrelationId = "c-19", OccurredAt = Now, ResellerId = 1, InvoiceId = "2046", AccountId = 167, BillingDate = new DateOnly(2026, 10, 1), PaymentId = "12201", AlreadyApplied = false },
        ],
        [typeof(InvoiceApprovalRevoked)] =
        [
            new InvoiceApprovalRevoked { Key = "NS2000015", MessageId = "m-20", CorrelationId = "c-20", OccurredAt = Now, ResellerId = 1, InvoiceId = "2046", BillingDate = new DateOnly(2026, 10, 1), AlreadyApplied = false },
        ],
        [typeof(InvoiceRejected)] =
        [
            new InvoiceRejected
            {
                Key = "NS2000015", MessageId = "m-21", CorrelationId = "c-21", OccurredAt = Now,
                MessageType = nameof(CompleteInvoice), Reason = RejectionReason.RejectedByActivePlatform,
                Description = "ActivePlatform refused the request (400).",
                ActivePlatformError = new ActivePlatformError("Payment related to this invoice has been cancelled. Invoice completion is not possible", 400, "INVOICE-0017"),
            },
            new InvoiceRejected
            {
                Key = "", MessageId = "m-22", CorrelationId = "c-22", OccurredAt = Now,
                MessageType = nameof(ApproveInvoice), Reason = RejectionReason.InvalidMessage,
                Description = "The message failed validation.", ValidationErrors = ["documentId: is required"],
            },
        ],
        [typeof(CompletePayment)] =
        [
            new CompletePayment
            {
                IdempotencyKey = "1c:bank-statement:2026-11-30:17", ResellerId = 1, Mode = PaymentCompletionMode.ByPaymentNumber,
                PaymentNumber = "002018", PaymentMethodId = 2, Amount = 123.45m, CurrencyCode = "USD", ExternalTransactionId = "BS-2026-11-30-17",
            },
            new CompletePayment { Mode = PaymentCompletionMode.ById, PaymentId = "2162", PaymentMethodId = 2 },
            new CompletePayment { Mode = PaymentCompletionMode.FromBalance, PaymentId = "2163" },
        ],
        [typeof(RegisterPayment)] =
        [
            new RegisterPayment { IdempotencyKey = "topup-1", ResellerId = 1, Key = "6f1d2c1e-8a55-4c0e-9d0f-1b2a3c4d5e6f", AccountId = 523, Total = 199.99m, Comment = "top-up payment", Purpose = "prepay payment" },
            new RegisterPayment { Key = "topup-118", AccountId = 523, Total = 500m, Comment = "top-up payment" },
        ],
        [typeof(CancelPayment)] =
        [
            new CancelPayment { IdempotencyKey = "cancel-2162", ResellerId = 1, PaymentId = "2162" },
            new CancelPayment { PaymentId = "2163" },
        ],
        [typeof(PaymentCompleted)] =
        [
            new PaymentCompleted
            {
                Key = "002018", MessageId = "m-11", CorrelationId = "c-11", OccurredAt = Now, ResellerId = 1,
                Mode = PaymentCompletionMode.ByPaymentNumber, Outcome = PaymentCompletionOutcome.Overpaid, PaymentId = "2162", PaymentNumber = "002018",
                PaymentStatus = "completed", Amount = 250m, ExternalTransactionId = "BS-17", CorrectionId = "738", AlreadyApplied = false,
            },
            new PaymentCompleted
            {
                Key = "2163", MessageId = "m-12", CorrelationId = "c-12", OccurredAt = Now, ResellerId = 1,
                Mode = PaymentCompletionMode.FromBalance, Outcome = PaymentCompletionOutcome.Completed, AlreadyApplied = true,
            },
        ],
        [typeof(PaymentRegistered)] =
        [
            new PaymentRegistered
            {
                Key = "topup-118", MessageId = "m-13", CorrelationId = "c-13", OccurredAt = Now, ResellerId = 1, AccountId = 523,
                PaymentId = "2162", PaymentNumber = "002018", PaymentStatus = "waiting_for_payment", Total = 199.99m, CurrencyCode = "USD", AlreadyApplied = false,
            },
            new PaymentRegistered { Key = "topup-119", MessageId = "m-14", CorrelationId = "c-14", OccurredAt = Now, ResellerId = 1, AccountId = 523, PaymentId = "2163", Total = 5m, AlreadyApplied = true },
        ],
        [typeof(PaymentCancelled)] =
        [
            new PaymentCancelled { Key = "2162", MessageId = "m-15", CorrelationId = "c-15", OccurredAt = Now, ResellerId = 1, PaymentId = "2162", PaymentNumber = "002018", PaymentStatus = "cancelled", AlreadyApplied = false },
            new PaymentCancelled { Key = "2163", MessageId = "m-16", CorrelationId = "c-16", OccurredAt = Now, ResellerId = 1, PaymentId = "2163", AlreadyApplied = true },
        ],
        [typeof(PaymentRejected)] =
        [
            new PaymentRejected
            {
                Key = "2162", MessageId = "m-17", CorrelationId = "c-17", OccurredAt = Now, MessageType = nameof(CancelPayment),
                Reason = RejectionReason.RejectedByActivePlatform, Description = "ActivePlatform refused the request (422).",
                ActivePlatformError = new ActivePlatformError("Only payments with \"waiting for payment\" status can be cancelled.", 422, null),
            },
            new PaymentRejected
            {
                Key = "", MessageId = "m-18", CorrelationId = "c-18", OccurredAt = Now, MessageType = nameof(CompletePayment),
                Reason = RejectionReason.InvalidMessage, Description = "The message is invalid.", ValidationErrors = ["paymentNumber: is required for ByPaymentNumber"],
            },
        ],
        [typeof(QueryActivePlatform)] =
        [
            new QueryActivePlatform
            {
                Query = QueryKind.Subscriptions, ResellerId = 1, Include = ["account", "plan"], Meta = true,
                Filter = new Dictionary<string, string> { ["account_id"] = "523,685", ["created_at[gt]"] = "2026-01-01" }, Sort = "-id",
            },
            new QueryActivePlatform { Query = QueryKind.Accounts, Id = "523" },
        ],
        [typeof(QueryAnswered)] =
        [
            new QueryAnswered
            {
                Query = QueryKind.Subscriptions, ResellerId = 1, PagesRead = 2,
                Document = JsonDocument.Parse("""{"data":[{"id":"1","type":"subscriptions","attributes":{"account_id":523,"total":"12.50"}}],"included":[{"id":"523","type":"accounts"}]}""").RootElement,
            },
            new QueryAnswered { Query = QueryKind.Accounts, ResellerId = 1, Id = "523", Document = JsonDocument.Parse("""{"data":{"id":"523","type":"accounts"}}""").RootElement },
        ],
        [typeof(QueryFailed)] =
        [
            new QueryFailed
            {
                Query = QueryKind.Subscriptions, ResellerId = 1, Failure = QueryFailure.Refused,
                Message = "ActivePlatform refused the read: it answered 400: no_such_field is not allowed as a filter.",
                Error = new ActivePlatformError("no_such_field is not allowed as a filter", 400, null),
            },
            new QueryFailed { Failure = QueryFailure.InvalidRequest, Message = "The query could not be read." },
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
