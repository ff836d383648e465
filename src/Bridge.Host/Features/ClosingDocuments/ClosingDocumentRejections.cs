using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;

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
}
