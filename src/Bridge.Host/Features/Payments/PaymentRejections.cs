using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;

namespace Bridge.Host.Features.Payments;

public static class PaymentRejections
{
    public static PaymentRejected Build(string? key, string messageType, IncomingMessage incoming, Rejection rejection, TimeProvider clock)
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
/// The natural keys of payment effects, as executor scopes. Completion by id, from balance and cancellation of one payment
/// share a scope and key (the payment id), so they are never in flight at once; what was applied is the status reached.
/// </summary>
public static class PaymentScopes
{
    public static string Payment(long resellerId) => FormattableString.Invariant($"payment:{resellerId}");

    /// <summary>The statement lines' scope prefix (their effect kind, <see cref="Effects.EffectKinds"/>), before <c>:{resellerId}</c>.</summary>
    public const string StatementLinePrefix = "payment-statement-line";

    /// <summary>Key: <c>{payment number}|{external transaction id}</c> — one bank statement line.</summary>
    public static string StatementLine(long resellerId) => FormattableString.Invariant($"{StatementLinePrefix}:{resellerId}");

    /// <summary>Key: the payment number — every statement line for one payment is handled one at a time.</summary>
    public static string PaymentNumber(long resellerId) => FormattableString.Invariant($"payment-number:{resellerId}");

    /// <summary>The top-ups' scope prefix (its effect kind, <see cref="Effects.EffectKinds"/>), before <c>:{resellerId}</c>.</summary>
    public const string TopUpPrefix = "payment-top-up";

    public static string TopUp(long resellerId) => FormattableString.Invariant($"{TopUpPrefix}:{resellerId}");
}
