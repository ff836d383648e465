using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Bridge.Host.Storage;

namespace Bridge.Host.Features.ClosingDocuments;

public static class ClosingDocumentRejections
{
    public static ClosingDocumentRejected Build(string? key, string messageType, IncomingMessage incoming, Rejection rejection, TimeProvider clock)
        => new()
        {
            Key = key ?? string.Empty,
            MessageId = incoming.IdempotencyKey ?? string.Empty,
            CorrelationId = incoming.CorrelationId,
            OccurredAt = clock.GetUtcNow(),
            MessageType = messageType,
            Reason = rejection.Reason,
            Description = rejection.Description,
            ValidationErrors = rejection.ValidationErrors,
            ActivePlatformError = rejection.ActivePlatformError,
        };

    /// <summary>
    /// A version (or a versioned delete) not written because <paramref name="document"/> records a newer one, or a delete
    /// after it: the skip names what the document records, and whether it is deleted.
    /// </summary>
    public static WorkResult Skipped(string key, long accountId, IncomingMessage incoming, string skippedVersion, DocumentState document, TimeProvider clock)
        => new(HandlingOutcome.Skipped, new ClosingDocumentSkipped
        {
            Key = key,
            MessageId = incoming.IdempotencyKey!,
            CorrelationId = incoming.CorrelationId,
            OccurredAt = clock.GetUtcNow(),
            AccountId = accountId,
            ExternalInvoiceId = document.Deleted ? null : document.ResourceId,
            SkippedVersion = DocumentVersion.Describe(skippedVersion),
            AppliedVersion = DocumentVersion.Describe(document.AppliedVersion ?? skippedVersion),
            DeletedAfter = document.Deleted,
        }, document.ResourceId, null);
}
