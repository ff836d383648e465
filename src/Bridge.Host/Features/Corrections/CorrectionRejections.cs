using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;

namespace Bridge.Host.Features.Corrections;

public static class CorrectionRejections
{
    public static CorrectionRejected Build(string? key, string messageType, IncomingMessage incoming, Rejection rejection, TimeProvider clock)
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

/// <summary>
/// Every message about one ERP correction shares this scope and the ERP key as document key: create, approve and decline of
/// one correction are never in flight at once, and the document state remembers ActivePlatform's id and the status last set.
/// </summary>
public static class CorrectionScope
{
    public static string Of(long resellerId) => FormattableString.Invariant($"correction:{resellerId}");
}
