using System.Globalization;
using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;

namespace Bridge.Host.Features.Payments;

/// <summary>What a statement line's journal entry records before the send: the payment as it was, and what the line pays.</summary>
public sealed record LineSent(string? PaymentId, string? Status, IReadOnlyList<string> CorrectionIds, decimal? Total, decimal? Paid);

/// <summary>What an applied statement line came to, and how Bridge knows (its own answer, or a read-back attributed to it).</summary>
public sealed record LineApplied(PaymentCompletionOutcome Outcome, string? PaymentId, string? Status, string? CorrectionId, string How);

/// <summary>Why a statement line is known not to have been applied, or why its outcome cannot be told.</summary>
public sealed record LineUnresolved(string Reason, LineSent? Before = null);

/// <summary>
/// One bank statement line as an effect: its journal id, its natural figures, and the read-back that attributes a change of
/// the payment to this line and nothing else. Every line of one payment, and every status change Bridge sends to it
/// (<see cref="PaymentEffectGroup"/>), is one journal group, so at most one effect's outcome is unknown at a time, and
/// between the state recorded before a line's send and the read-back only that line (or a person, by hand) can have
/// changed the payment.
/// </summary>
public static class StatementLineEffect
{
    public static EffectId Id(long resellerId, string paymentNumber, string? externalTransactionId)
        => new(PaymentScopes.StatementLine(resellerId), $"{paymentNumber}|{externalTransactionId}", paymentNumber);

    /// <summary>The line's own figures: a republish of the line with other figures is a conflict, not the same line.</summary>
    public static string Fingerprint(CompletePayment message) => PayloadFingerprint.Of(new
    {
        message.PaymentNumber,
        message.ExternalTransactionId,
        message.Amount,
        message.CurrencyCode,
        message.PaymentMethodId,
    });

    /// <summary>
    /// Decides what the line whose send was recorded as <paramref name="before"/> did, from the payment and its corrections
    /// now. Applied only when the change is exactly the one the documented matrix (REFERENCE.md §2.5) gives for this line;
    /// NotApplied only when nothing changed; anything else is Unknown.
    /// </summary>
    public static (EffectState State, LineApplied? Applied, string Reason) Attribute(
        LineSent before, Payment now, IReadOnlyDictionary<string, PaymentCorrectionAttributes> corrections)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(now);
        var status = now.Attributes.Status;
        var added = now.CorrectionIds.Except(before.CorrectionIds, StringComparer.Ordinal).ToList();
        var described = string.Create(
            CultureInfo.InvariantCulture,
            $"before the send the payment was '{before.Status}' with {before.CorrectionIds.Count} correction(s); now it is '{status}' with {added.Count} new correction(s)");
        if (added.Count == 0 && string.Equals(status, before.Status, StringComparison.Ordinal))
        {
            return (EffectState.NotApplied, null, "read back: the payment is as it was before the send, " + described);
        }

        var total = before.Total ?? now.Attributes.Total;
        var paid = before.Paid ?? total;
        var closedBefore = PaymentStatuses.IsClosed(before.Status);
        var (outcome, expectedStatusChange, expectedCorrection) = closedBefore
            ? (PaymentCompletionOutcome.AlreadyClosed, false, paid)
            : paid == total ? (PaymentCompletionOutcome.Completed, true, (decimal?)null)
            : paid > total ? (PaymentCompletionOutcome.Overpaid, true, paid - total)
            : (PaymentCompletionOutcome.PartiallyPaid, false, paid);

        var statusAsExpected = expectedStatusChange
            ? PaymentStatuses.IsClosed(status) && !string.Equals(status, before.Status, StringComparison.Ordinal)
            : string.Equals(status, before.Status, StringComparison.Ordinal);
        var correctionsAsExpected = expectedCorrection is null
            ? added.Count == 0
            : added.Count == 1 && corrections.TryGetValue(added[0], out var correction) && correction.Total == expectedCorrection;
        if (statusAsExpected && correctionsAsExpected)
        {
            var how = "read back: the payment changed exactly as this line makes it change, " + described;
            return (EffectState.Applied, new LineApplied(outcome, now.Id, status, expectedCorrection is null ? null : added[0], how), how);
        }

        return (EffectState.Unknown, null, "read back: the payment changed, but not exactly as this line would change it; " + described);
    }

    /// <summary>The outcome of a line from ActivePlatform's own answer to its send.</summary>
    public static LineApplied FromAnswer(LineSent before, Payment after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var total = after.Attributes.Total;
        var paid = before.Paid ?? total;
        var outcome = CompletePaymentHandler.Classify(before.Status, after.Attributes.Status, paid, total);
        var added = after.CorrectionIds.Except(before.CorrectionIds, StringComparer.Ordinal).ToList();
        var correctionId = outcome == PaymentCompletionOutcome.Completed ? null : added.Count > 0 ? added[^1] : after.CorrectionIds.LastOrDefault();
        return new LineApplied(outcome, after.Id, after.Attributes.Status, correctionId, "ActivePlatform's answer to the send");
    }

    public static string UnknownInstructions(EffectId id, string paymentNumber, string? externalTransactionId, string reason)
        => $"Statement line {externalTransactionId} for payment {paymentNumber} was sent to ActivePlatform and its answer was lost; Bridge cannot tell whether it was applied ({reason}). Check the payment's corrections and status in ActivePlatform. "
            + EffectInstructions.Resolve(id, "[--resource-id <the correction it made, if any>]");

    /// <summary>
    /// The outcome of a line an operator resolved as applied: what the documented matrix gives for the line against the
    /// payment as it was before the send (when that was recorded), the payment as it is now, and the correction the
    /// operator found (if the line made one).
    /// </summary>
    public static LineApplied ByOperator(LineSent? before, Payment? now, OperatorResolution resolution)
    {
        ArgumentNullException.ThrowIfNull(resolution);
        var status = now?.Attributes.Status;
        PaymentCompletionOutcome outcome;
        if (before is { Status: { } statusBefore } && (before.Total ?? now?.Attributes.Total) is { } total)
        {
            var paid = before.Paid ?? total;
            outcome = PaymentStatuses.IsClosed(statusBefore) ? PaymentCompletionOutcome.AlreadyClosed
                : paid == total ? PaymentCompletionOutcome.Completed
                : paid > total ? PaymentCompletionOutcome.Overpaid
                : PaymentCompletionOutcome.PartiallyPaid;
        }
        else
        {
            outcome = PaymentStatuses.IsClosed(status) ? PaymentCompletionOutcome.Completed : PaymentCompletionOutcome.PartiallyPaid;
        }

        return new LineApplied(outcome, now?.Id ?? before?.PaymentId, status, resolution.ResourceId, $"resolved as applied by operator {resolution.ResolvedBy}: {resolution.Note}");
    }
}
