using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.Effects;
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
    IEffectJournal journal,
    PaymentEffectGroup group,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : ICommandHandler<CompletePaymentCommand, HandlingOutcome>, IErpCommandRules<CompletePaymentCommand>
{
    // Checked by ErpCommandValidation before Handle runs.
    public List<string> Validate(CompletePaymentCommand command) => PaymentValidation.Validate(command.Message);

    public IResultEvent Rejected(CompletePaymentCommand command, Rejection rejection) => Rejected(KeyOf(command.Message), command.Incoming, rejection);

    public object? Payload(CompletePaymentCommand command) => command.Message;

    /// <summary>The payment the message names: its number or its id, by its mode.</summary>
    private static string? KeyOf(CompletePayment? message) =>
        message is null ? null : message.Mode == PaymentCompletionMode.ByPaymentNumber ? message.PaymentNumber : message.PaymentId;

    public async ValueTask<HandlingOutcome> Handle(CompletePaymentCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;
        var key = KeyOf(message);

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
        var lineId = StatementLineEffect.Id(resellerId, number, message.ExternalTransactionId);
        var fingerprint = StatementLineEffect.Fingerprint(message);
        var me = incoming.IdempotencyKey!;

        // Lines applied before the journal existed are still answered from the document state they were recorded in.
        var legacy = await documents.GetAsync(lineId.Scope, lineId.Key, cancellationToken);
        if (AppliedLine.TryParse(legacy?.AppliedVersion, out var applied))
        {
            return new WorkResult(HandlingOutcome.Applied, Completed(message, incoming, resellerId, applied.Outcome, legacy!.ResourceId, applied.Status, applied.CorrectionId, alreadyApplied: true), legacy.ResourceId, null);
        }

        // First settle the payment's one unresolved effect, whichever flow and message sent it: nothing is sent for a payment
        // while another effect's outcome on it is unknown, so a read-back can only ever see the one line it is judging.
        await group.SettleOpenAsync(resellerId, number, cancellationToken);

        var line = await journal.FindAsync(lineId, cancellationToken);
        switch (line?.State)
        {
            case EffectState.Applied when !string.Equals(line.Fingerprint, fingerprint, StringComparison.Ordinal):
                throw new NaturalKeyConflictException(
                    $"Statement line {message.ExternalTransactionId} for payment {number} was already applied with other figures (amount, currency or payment method); this message was not applied.");
            case EffectState.Applied:
                // Resolved by an operator after checking ActivePlatform: answered from what they found, nothing is sent.
                var done = OperatorResolution.Of(line) is { } byOperator
                    ? await ByOperatorAsync(byOperator, resellerId, number, cancellationToken)
                    : line.EvidenceAs<LineApplied>()!;
                var ownSend = string.Equals(line.OwnerKey, me, StringComparison.Ordinal);
                return new WorkResult(HandlingOutcome.Applied, Completed(message, incoming, resellerId, done.Outcome, done.PaymentId, done.Status, done.CorrectionId, alreadyApplied: !ownSend), done.PaymentId, null);
            case EffectState.Unknown:
                throw new PaymentOutcomeUnknownException(StatementLineEffect.UnknownInstructions(lineId, number, message.ExternalTransactionId, line.EvidenceAs<LineUnresolved>()?.Reason ?? "no read-back"));
        }

        // The state before the send is what a later read-back judges this line's effect against.
        var current = await payments.FindByNumberAsync(resellerId, number, cancellationToken);
        var before = new LineSent(current?.Id, current?.Attributes.Status, current?.CorrectionIds ?? [], current?.Attributes.Total, message.Amount, message.PaymentMethodId, PaymentTrace.Of(current));
        if (await journal.TryBeginAsync(lineId, me, fingerprint, EffectEvidence.Of(before), cancellationToken) is not { } attempt)
        {
            throw new EffectPendingException($"Statement line {message.ExternalTransactionId} for payment {number} is being settled by another delivery.");
        }

        // Another effect on the payment (a completion by id, a cancellation) may have ended between the read above and the
        // journal entry that now fences the payment: the state recorded must be the one the send meets, so it is read again.
        Payment? fenced;
        try
        {
            fenced = await payments.FindByNumberAsync(resellerId, number, cancellationToken);
        }
        catch
        {
            await journal.ResolveAsync(lineId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(new LineUnresolved("not sent: the payment could not be read again before the send", before)), CancellationToken.None);
            throw;
        }

        if (!SameState(current, fenced))
        {
            await journal.ResolveAsync(lineId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(new LineUnresolved("not sent: the payment changed between the read before the send and the journal entry", before)), CancellationToken.None);
            throw new EffectPendingException($"Statement line {message.ExternalTransactionId} for payment {number}: the payment changed just before the send; reading it again.");
        }

        // The send counts from now, not from the entry: the read above may have taken long enough (a slow ActivePlatform, a
        // paused process) for another delivery to conclude from a read-back that the line was never sent.
        if (!await journal.TryStampSendAsync(lineId, attempt, cancellationToken))
        {
            throw new EffectAttemptSupersededException($"Statement line {message.ExternalTransactionId} for payment {number}: attempt {attempt} was settled by another delivery before its send; nothing was sent.");
        }

        Payment after;
        try
        {
            // Once sent, the completion is not cancelled: an effect ActivePlatform applied must reach Bridge's record.
            after = await payments.CompleteByNumberAsync(
                resellerId, number, new PaymentCompletionByNumber(message.PaymentMethodId!.Value, message.Amount, message.CurrencyCode, message.ExternalTransactionId), CancellationToken.None);
        }
        catch (Exception ex) when (EffectFailures.ProvesNotApplied(ex))
        {
            // Answered without an effect: the line was not applied and may be sent again. (A refusal is then rejected.)
            await journal.ResolveAsync(lineId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(new LineUnresolved("answered: " + ex.Message, before)), CancellationToken.None);
            throw;
        }

        // The answer says the line was applied; what it did is read from the answer against the payment before the send. A
        // read of the corrections' totals that fails leaves the line open (sent, unanswered in the record): the next delivery
        // settles it by a read-back, and it is never sent again.
        var corrections = StatementLineEffect.AnswerNeedsCorrectionTotals(before, after)
            ? await EffectReadBack.RunAsync($"Statement line {lineId.Key} of payment {number}", () => payments.GetCorrectionsAsync(resellerId, after.Id, CancellationToken.None))
            : null;
        if (StatementLineEffect.FromAnswer(before, after, corrections) is not { } result)
        {
            var unreadable = StatementLineEffect.UnreadableAnswer(before, after);
            await journal.ResolveAsync(lineId, attempt, EffectState.Unknown, null, EffectEvidence.Of(new LineUnresolved(unreadable, before)), CancellationToken.None);
            throw new PaymentOutcomeUnknownException(StatementLineEffect.UnknownInstructions(lineId, number, message.ExternalTransactionId, unreadable));
        }

        // Recorded before the message's commit, so a failed commit leaves the line applied, not open for a read-back.
        await journal.ResolveAsync(lineId, attempt, EffectState.Applied, result.CorrectionId, EffectEvidence.Of(result), CancellationToken.None);
        return new WorkResult(
            HandlingOutcome.Applied,
            Completed(message, incoming, resellerId, result.Outcome, after.Id, result.Status, result.CorrectionId, alreadyApplied: false),
            after.Id,
            null)
        {
            Effects = [new EffectResolution(lineId, attempt, EffectState.Applied, result.CorrectionId, EffectEvidence.Of(result))],
        };
    }

    /// <summary>What a line an operator resolved as applied came to, read with the correction they named (if any).</summary>
    private async Task<LineApplied> ByOperatorAsync(OperatorResolution byOperator, long resellerId, string number, CancellationToken cancellationToken)
    {
        var before = StatementLineEffect.SentOf(byOperator);
        var now = await payments.FindByNumberAsync(resellerId, number, cancellationToken);
        var named = byOperator.ResourceId is { } correction && now is not null
            ? (await payments.GetCorrectionsAsync(resellerId, now.Id, cancellationToken)).GetValueOrDefault(correction)
            : null;
        return StatementLineEffect.ByOperator(before, now, byOperator, named);
    }

    private static bool SameState(Payment? a, Payment? b)
        => string.Equals(a?.Id, b?.Id, StringComparison.Ordinal)
            && string.Equals(a?.Attributes.Status, b?.Attributes.Status, StringComparison.Ordinal)
            && a?.Attributes.Total == b?.Attributes.Total
            && PaymentTrace.Of(a) == PaymentTrace.Of(b)
            && (a?.CorrectionIds ?? []).SequenceEqual(b?.CorrectionIds ?? [], StringComparer.Ordinal);

    private async Task<WorkResult> CompleteByIdAsync(WorkContext context, CompletePayment message, IncomingMessage incoming, long resellerId, CancellationToken cancellationToken)
    {
        var target = message.Mode == PaymentCompletionMode.FromBalance ? PaymentStatuses.PaidFromBalance : PaymentStatuses.Completed;
        var paymentId = message.PaymentId!;
        if (context.Document?.AppliedVersion == target)
        {
            return new WorkResult(HandlingOutcome.Applied, Completed(message, incoming, resellerId, PaymentCompletionOutcome.Completed, paymentId, target, null, alreadyApplied: true), paymentId, null);
        }

        // One effect of the payment's group: never sent while a statement line's outcome is unknown, and no line is sent
        // while it is (a line's read-back would otherwise take this completion for the line's own).
        var (current, alreadyApplied, resolution) = await group.ChangeStatusAsync(
            resellerId,
            paymentId,
            target,
            incoming.IdempotencyKey!,
            () => message.Mode == PaymentCompletionMode.FromBalance
                ? payments.PayFromBalanceAsync(resellerId, paymentId, CancellationToken.None)
                : payments.CompleteByIdAsync(resellerId, paymentId, message.PaymentMethodId!.Value, CancellationToken.None),
            cancellationToken,
            message.Mode == PaymentCompletionMode.FromBalance ? null : message.PaymentMethodId,
            context.MarkUnjournaledSendAsync);

        return new WorkResult(
            HandlingOutcome.Applied,
            Completed(message, incoming, resellerId, PaymentCompletionOutcome.Completed, paymentId, current?.Attributes.Status, null, alreadyApplied, current?.Attributes.DocumentId),
            paymentId,
            new DocumentChange(target, paymentId, Deleted: false))
        {
            Effects = resolution is null ? [] : [resolution],
        };
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
/// A statement line was sent but its answer was lost, and the payment cannot be read back to tell whether it applied:
/// sending again could count the money twice, so the message is kept as a dead letter for an operator.
/// </summary>
public sealed class PaymentOutcomeUnknownException(string instructions) : EffectOutcomeUnknownException(instructions);

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
