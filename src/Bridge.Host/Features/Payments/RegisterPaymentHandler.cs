using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Bridge.Host.Storage;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.Payments;

/// <summary>
/// Creates one top-up payment per ERP key. ActivePlatform has no key of its own for payments, so Bridge records one:
/// once applied, the key is answered from that record with <c>AlreadyApplied</c>. Before the POST is sent, the key's
/// record is marked with the time; any later attempt for the key (a retry, or a republish under a new message id) then
/// looks for the payment that send may have created (same account, total, comment and purpose, created since) and
/// adopts it instead of creating a second one.
/// </summary>
public sealed class RegisterPaymentHandler(
    IdempotentExecutor executor,
    IPaymentsClient payments,
    IDocumentStateStore documents,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : ICommandHandler<RegisterPaymentCommand, HandlingOutcome>
{
    // Bridge's and ActivePlatform's clocks differ; the search for a lost create starts this much before the first attempt.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public async ValueTask<HandlingOutcome> Handle(RegisterPaymentCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;
        var errors = PaymentValidation.Validate(message);
        errors.AddRange(IdempotencyKeys.Validate(incoming.IdempotencyKey));
        if (errors.Count > 0)
        {
            await executor.RejectInvalidAsync(Rejected(message?.Key, incoming, Rejection.Invalid(errors)), incoming, message, cancellationToken);
            return HandlingOutcome.Rejected;
        }

        var resellerId = message.ResellerId ?? activePlatformOptions.Value.ResellerId;
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = PayloadFingerprint.Of(message),
            Scope = PaymentScopes.TopUp(resellerId),
            DocumentKey = message.Key,
            Reject = rejection => Rejected(message.Key, incoming, rejection),
            Apply = (context, ct) => ApplyAsync(context, message, incoming, resellerId, ct),
        }, cancellationToken);
    }

    private async Task<WorkResult> ApplyAsync(WorkContext context, RegisterPayment message, IncomingMessage incoming, long resellerId, CancellationToken cancellationToken)
    {
        if (context.Document is { ResourceId: { } existingId } && AppliedTopUp.TryParse(context.Document.AppliedVersion, out var applied))
        {
            return new WorkResult(HandlingOutcome.Applied, Registered(message, incoming, resellerId, existingId, applied.Number, applied.Status, applied.Currency, alreadyApplied: true), existingId, null);
        }

        // The send is recorded on the ERP key, not on this message: a republish of the key under a new message id after
        // a lost answer must find the payment the first send created, not create a second one.
        Payment? payment = null;
        if (CreateSent.TryParse(context.Document?.AppliedVersion, out var sentAt))
        {
            payment = await FindLostCreateAsync(message, resellerId, sentAt - ClockSkew, cancellationToken);
        }

        if (payment is null)
        {
            await documents.SetAppliedNowAsync(PaymentScopes.TopUp(resellerId), message.Key, CreateSent.Format(clock.GetUtcNow()), null, CancellationToken.None);

            // Once sent, the create is not cancelled: a payment ActivePlatform created must reach Bridge's record.
            payment = await payments.CreateTopUpAsync(resellerId, new TopUpPayment(message.AccountId, message.Total, message.Comment, message.Purpose), CancellationToken.None);
        }

        var attributes = payment.Attributes;
        var state = new AppliedTopUp(attributes.DocumentId, attributes.Status, attributes.CurrencyCode);
        return new WorkResult(
            HandlingOutcome.Applied,
            Registered(message, incoming, resellerId, payment.Id, attributes.DocumentId, attributes.Status, attributes.CurrencyCode, alreadyApplied: false),
            payment.Id,
            new DocumentChange(state.ToString(), payment.Id, Deleted: false));
    }

    private async Task<Payment?> FindLostCreateAsync(RegisterPayment message, long resellerId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var query = new PaymentQuery
        {
            Filters = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["created_at[gte]"] = since.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            },
        };
        Payment? found = null;
        await foreach (var candidate in payments.ListAsync(resellerId, query, cancellationToken))
        {
            var a = candidate.Attributes;
            if (a.AccountId == message.AccountId && a.Total == message.Total
                && string.Equals(a.Comment, message.Comment, StringComparison.Ordinal)
                && string.Equals(a.Purpose ?? "", message.Purpose ?? "", StringComparison.Ordinal)
                && a.CreatedAt >= since)
            {
                found = candidate;
            }
        }

        return found;
    }

    private PaymentRegistered Registered(RegisterPayment message, IncomingMessage incoming, long resellerId, string paymentId, string? number, string? status, string? currency, bool alreadyApplied)
        => new()
        {
            Key = message.Key,
            MessageId = incoming.IdempotencyKey!,
            CorrelationId = incoming.CorrelationId,
            OccurredAt = clock.GetUtcNow(),
            ResellerId = resellerId,
            AccountId = message.AccountId,
            PaymentId = paymentId,
            PaymentNumber = number,
            PaymentStatus = status,
            Total = message.Total,
            CurrencyCode = currency,
            AlreadyApplied = alreadyApplied,
        };

    private PaymentRejected Rejected(string? key, IncomingMessage incoming, Rejection rejection)
        => PaymentRejections.Build(key, nameof(RegisterPayment), incoming, rejection, clock);
}

/// <summary>A top-up create sent at a time, its answer not yet recorded: <c>sent|{utc ticks}</c>.</summary>
internal static class CreateSent
{
    private const string Prefix = "sent|";

    public static string Format(DateTimeOffset at) => Prefix + at.UtcTicks.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string? value, out DateTimeOffset at)
    {
        at = default;
        if (value is null || !value.StartsWith(Prefix, StringComparison.Ordinal)
            || !long.TryParse(value.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
        {
            return false;
        }

        at = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }
}

/// <summary>The created top-up, kept as the document's applied version: <c>{number}|{status}|{currency}</c>.</summary>
internal sealed record AppliedTopUp(string? Number, string? Status, string? Currency)
{
    public override string ToString() => $"{Number}|{Status}|{Currency}";

    public static bool TryParse(string? value, out AppliedTopUp topUp)
    {
        topUp = null!;
        var parts = value?.Split('|');
        if (parts is not { Length: 3 })
        {
            return false;
        }

        static string? OrNull(string part) => part.Length == 0 ? null : part;
        topUp = new AppliedTopUp(OrNull(parts[0]), OrNull(parts[1]), OrNull(parts[2]));
        return true;
    }
}
