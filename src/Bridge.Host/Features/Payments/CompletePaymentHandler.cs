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
/// Completes a payment. By number, the natural key is the bank statement line (payment number + external transaction id):
/// once applied, a republished line is answered from Bridge's record with <c>AlreadyApplied</c> and ActivePlatform is not
/// called. By id and from balance, the natural key is the payment and the status it reaches: a payment already in that
/// status (an earlier message, a lost answer, or a manager by hand) is reported as already applied.
/// </summary>
public sealed class CompletePaymentHandler(
    IdempotentExecutor executor,
    IPaymentsClient payments,
    IDocumentStateStore documents,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : ICommandHandler<CompletePaymentCommand, HandlingOutcome>
{
    public async ValueTask<HandlingOutcome> Handle(CompletePaymentCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;
        var errors = PaymentValidation.Validate(message);
        errors.AddRange(IdempotencyKeys.Validate(incoming.IdempotencyKey));
        var key = message is null ? null : message.Mode == PaymentCompletionMode.ByPaymentNumber ? message.PaymentNumber : message.PaymentId;
        if (errors.Count > 0)
        {
            await executor.RejectInvalidAsync(Rejected(key, incoming, Rejection.Invalid(errors)), incoming, message, cancellationToken);
            return HandlingOutcome.Rejected;
        }

        var resellerId = message!.ResellerId ?? activePlatformOptions.Value.ResellerId;
        var byNumber = message.Mode == PaymentCompletionMode.ByPaymentNumber;
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = PayloadFingerprint.Of(message),
            // By number, every statement line for one payment is claimed on the payment number, so two lines for one
            // payment never run at once (each would misread the other's correction as its own).
            Scope = byNumber ? PaymentScopes.PaymentNumber(resellerId) : PaymentScopes.Payment(resellerId),
            DocumentKey = byNumber ? message.PaymentNumber! : message.PaymentId!,
            Reject = rejection => Rejected(key, incoming, rejection),
            Apply = (context, ct) => byNumber
                ? CompleteByNumberAsync(context, message, incoming, resellerId, ct)
                : CompleteByIdAsync(context, message, incoming, resellerId, ct),
        }, cancellationToken);
    }

    private async Task<WorkResult> CompleteByNumberAsync(WorkContext context, CompletePayment message, IncomingMessage incoming, long resellerId, CancellationToken cancellationToken)
    {
        var number = message.PaymentNumber!;
        var lineScope = PaymentScopes.StatementLine(resellerId);
        var lineKey = $"{number}|{message.ExternalTransactionId}";
        var line = await documents.GetAsync(lineScope, lineKey, cancellationToken);
        if (AppliedLine.TryParse(line?.AppliedVersion, out var applied))
        {
            return new WorkResult(HandlingOutcome.Applied, Completed(message, incoming, resellerId, applied.Outcome, line!.ResourceId, applied.Status, applied.CorrectionId, alreadyApplied: true), line.ResourceId, null);
        }

        // The state before tells "already closed" from "completed now" and which correction is new. The lookup by number is
        // an inferred filter; without it the outcome is judged from the answer alone.
        var current = await payments.FindByNumberAsync(resellerId, number, cancellationToken);
        var before = current is null ? null : new SentLine(current.Attributes.Status, current.CorrectionIds.Count);
        if (SentLine.TryParse(line?.AppliedVersion, out var sent))
        {
            // An earlier attempt sent this line and its answer never reached Bridge's record. ActivePlatform has no
            // idempotency: sending again to a payment it already applied this line to would create a second correction.
            // So what happened is read back against the state recorded just before that send.
            if (current is null)
            {
                throw new PaymentOutcomeUnknownException(number, message.ExternalTransactionId);
            }

            if (!Equals(sent, before))
            {
                return Applied(message, incoming, resellerId, sent, current, lineScope, lineKey);
            }
        }

        await RecordSentAsync(lineScope, lineKey, before ?? new SentLine(null, 0), current?.Id);

        // Once sent, the completion is not cancelled: an effect ActivePlatform applied must reach Bridge's record.
        var after = await payments.CompleteByNumberAsync(
            resellerId, number, new PaymentCompletionByNumber(message.PaymentMethodId!.Value, message.Amount, message.CurrencyCode, message.ExternalTransactionId), CancellationToken.None);
        return Applied(message, incoming, resellerId, before, after, lineScope, lineKey);
    }

    private WorkResult Applied(CompletePayment message, IncomingMessage incoming, long resellerId, SentLine? before, Payment after, string lineScope, string lineKey)
    {
        var total = after.Attributes.Total;
        var paid = message.Amount ?? total;
        var outcome = Classify(before?.Status, after.Attributes.Status, paid, total);
        var correctionId = outcome == PaymentCompletionOutcome.Completed ? null : after.CorrectionIds.LastOrDefault();
        var line = new AppliedLine(outcome, after.Attributes.Status, correctionId);
        return new WorkResult(
            HandlingOutcome.Applied,
            Completed(message, incoming, resellerId, outcome, after.Id, after.Attributes.Status, correctionId, alreadyApplied: false),
            after.Id,
            null)
        {
            OtherChanges = [new ScopedDocumentChange(lineScope, lineKey, new DocumentChange(line.ToString(), after.Id, Deleted: false))],
        };
    }

    /// <summary>Commits, before the send, that this line is being sent and what the payment looked like then.</summary>
    private Task RecordSentAsync(string lineScope, string lineKey, SentLine before, string? paymentId)
        => documents.SetAppliedNowAsync(lineScope, lineKey, before.ToString(), paymentId, CancellationToken.None);

    /// <summary>The documented matrix (REFERENCE.md §2.5) read back from the states before and after.</summary>
    public static PaymentCompletionOutcome Classify(string? statusBefore, string? statusAfter, decimal? paid, decimal? total)
    {
        if (PaymentStatuses.IsClosed(statusBefore))
        {
            return PaymentCompletionOutcome.AlreadyClosed;
        }

        if (!PaymentStatuses.IsClosed(statusAfter))
        {
            return PaymentCompletionOutcome.PartiallyPaid;
        }

        return paid > total ? PaymentCompletionOutcome.Overpaid : PaymentCompletionOutcome.Completed;
    }

    private async Task<WorkResult> CompleteByIdAsync(WorkContext context, CompletePayment message, IncomingMessage incoming, long resellerId, CancellationToken cancellationToken)
    {
        var target = message.Mode == PaymentCompletionMode.FromBalance ? PaymentStatuses.PaidFromBalance : PaymentStatuses.Completed;
        var paymentId = message.PaymentId!;
        if (context.Document?.AppliedVersion == target)
        {
            return new WorkResult(HandlingOutcome.Applied, Completed(message, incoming, resellerId, PaymentCompletionOutcome.Completed, paymentId, target, null, alreadyApplied: true), paymentId, null);
        }

        var current = await payments.GetAsync(resellerId, paymentId, cancellationToken);
        var alreadyApplied = current?.Attributes.Status == target;
        if (!alreadyApplied)
        {
            try
            {
                current = message.Mode == PaymentCompletionMode.FromBalance
                    ? await payments.PayFromBalanceAsync(resellerId, paymentId, CancellationToken.None)
                    : await payments.CompleteByIdAsync(resellerId, paymentId, message.PaymentMethodId!.Value, CancellationToken.None);
            }
            catch (ActivePlatformPermanentException refused) when (refused.Status == 422)
            {
                // A PATCH the HTTP layer repeated after a lost answer is refused because the first one applied: that is success.
                current = await payments.GetAsync(resellerId, paymentId, cancellationToken);
                if (current?.Attributes.Status != target)
                {
                    throw;
                }
            }
        }

        return new WorkResult(
            HandlingOutcome.Applied,
            Completed(message, incoming, resellerId, PaymentCompletionOutcome.Completed, paymentId, current?.Attributes.Status, null, alreadyApplied, current?.Attributes.DocumentId),
            paymentId,
            new DocumentChange(target, paymentId, Deleted: false));
    }

    private PaymentCompleted Completed(
        CompletePayment message, IncomingMessage incoming, long resellerId, PaymentCompletionOutcome outcome, string? paymentId, string? status, string? correctionId, bool alreadyApplied, string? paymentNumber = null)
        => new()
        {
            Key = message.Mode == PaymentCompletionMode.ByPaymentNumber ? message.PaymentNumber! : message.PaymentId!,
            MessageId = incoming.IdempotencyKey!,
            CorrelationId = incoming.CorrelationId,
            OccurredAt = clock.GetUtcNow(),
            ResellerId = resellerId,
            Mode = message.Mode,
            Outcome = outcome,
            PaymentId = paymentId,
            PaymentNumber = message.PaymentNumber ?? paymentNumber,
            PaymentStatus = status,
            Amount = message.Amount,
            ExternalTransactionId = message.ExternalTransactionId,
            CorrectionId = correctionId,
            AlreadyApplied = alreadyApplied,
        };

    private PaymentRejected Rejected(string? key, IncomingMessage incoming, Rejection rejection)
        => PaymentRejections.Build(key, nameof(CompletePayment), incoming, rejection, clock);
}

/// <summary>
/// A statement line sent to ActivePlatform whose answer is not yet recorded, with the payment's status and number of
/// corrections just before: <c>Sent|{status}|{corrections}</c>.
/// </summary>
internal sealed record SentLine(string? Status, int Corrections)
{
    private const string Prefix = "Sent|";

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Status}|{Corrections}");

    public static bool TryParse(string? value, out SentLine line)
    {
        line = null!;
        var parts = value?.Split('|');
        if (parts is not { Length: 3 } || parts[0] != "Sent" || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var corrections))
        {
            return false;
        }

        line = new SentLine(parts[1].Length == 0 ? null : parts[1], corrections);
        return true;
    }
}

/// <summary>
/// A statement line was sent but its answer was lost, and the payment cannot be read back to tell whether it applied:
/// sending again could count the money twice, so the message is kept as a dead letter for an operator.
/// </summary>
public sealed class PaymentOutcomeUnknownException(string paymentNumber, string? externalTransactionId)
    : EffectOutcomeUnknownException($"Statement line {externalTransactionId} for payment {paymentNumber} was sent to ActivePlatform but its answer was lost, and the payment cannot be read back by its number. Check the payment's corrections in ActivePlatform before replaying or discarding this message.");

/// <summary>What an applied statement line came to, kept as the document's applied version: <c>{outcome}|{status}|{correction id}</c>.</summary>
internal sealed record AppliedLine(PaymentCompletionOutcome Outcome, string? Status, string? CorrectionId)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Outcome}|{Status}|{CorrectionId}");

    public static bool TryParse(string? value, out AppliedLine line)
    {
        line = null!;
        var parts = value?.Split('|');
        if (parts is not { Length: 3 } || !Enum.TryParse<PaymentCompletionOutcome>(parts[0], out var outcome))
        {
            return false;
        }

        line = new AppliedLine(outcome, parts[1].Length == 0 ? null : parts[1], parts[2].Length == 0 ? null : parts[2]);
        return true;
    }
}
