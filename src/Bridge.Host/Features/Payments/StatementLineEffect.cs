using System.Globalization;
using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;

namespace Bridge.Host.Features.Payments;

/// <summary>
/// What a statement line's journal entry records before the send: the payment as it was, what the line pays, and the payment
/// method the line sets when it completes an open payment (entries written before it was recorded have none).
/// </summary>
public sealed record LineSent(string? PaymentId, string? Status, IReadOnlyList<string> CorrectionIds, decimal? Total, decimal? Paid, long? PaymentMethodId = null);

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
    /// now, when its answer was lost. Applied only when the change is exactly the one the documented matrix (REFERENCE.md §2.5)
    /// gives for this line and nothing else can have made it; NotApplied when the payment shows no trace of the line (it is
    /// unchanged, or changed by something else in a way the line never changes it — every landing of a line leaves a new
    /// correction or completes the payment with the line's payment method); anything else is Unknown.
    /// </summary>
    public static (EffectState State, LineApplied? Applied, string Reason) Attribute(
        LineSent before, Payment now, IReadOnlyDictionary<string, PaymentCorrectionAttributes> corrections)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(now);
        var status = now.Attributes.Status;
        var added = Added(before, now);
        var described = Describe(before, now, added);
        if (added.Count == 0 && string.Equals(status, before.Status, StringComparison.Ordinal))
        {
            return (EffectState.NotApplied, null, "read back: the payment is as it was before the send, " + described);
        }

        if (added.Count == 0 && before.PaymentMethodId is { } lineMethod && !ClosedByLine(before, now, lineMethod))
        {
            // Closed (or reopened) by something else — its invoice's completion, a manager — with no correction: the line,
            // had it landed, would have completed the payment with its own method or added a correction.
            return (EffectState.NotApplied, null, string.Create(
                CultureInfo.InvariantCulture,
                $"read back: the payment changed, but not by this line, which leaves no trace of itself (no new correction, and the payment is not completed with payment method {lineMethod} which the line sets); {described}"));
        }

        var expected = Expected(before, now);
        if (Matches(expected, before, now, added, corrections))
        {
            if (expected.Correction is null && LinkedInvoices(now) is { Count: > 0 } invoices)
            {
                // Completing a postpaid invoice completes its payment (REFERENCE.md §6), and what payment method that records
                // is not documented: a completion without a correction cannot be told from the invoice's.
                return (EffectState.Unknown, null, $"read back: the payment is completed as this line completes it, but it is linked to invoice {string.Join(", ", invoices)}, whose completion completes it too, and ActivePlatform does not tell which one did; {described}");
            }

            var how = "read back: the payment changed exactly as this line makes it change, " + described;
            return (EffectState.Applied, new LineApplied(expected.Outcome, now.Id, status, expected.Correction is null ? null : added[0], how), how);
        }

        return (EffectState.Unknown, null, "read back: the payment changed, but not exactly as this line would change it; " + described);
    }

    /// <summary>
    /// Whether reading what the line's answer says needs the total of its new correction: whenever the answer shows the payment,
    /// open when the line was recorded, closed with one new correction. That is an overpayment of the open payment (a
    /// correction for the excess), or the line meeting the payment closed by something else just before it landed (a
    /// correction for the whole amount) — or, when a line whose outcome is unknown landed meanwhile, that line's correction.
    /// </summary>
    public static bool AnswerNeedsCorrectionTotals(LineSent before, Payment after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        return !PaymentStatuses.IsClosed(before.Status) && PaymentStatuses.IsClosed(after.Attributes.Status) && Added(before, after).Count == 1;
    }

    /// <summary>
    /// The outcome of a line from ActivePlatform's own answer to its send: the line was applied, and the answer says what it
    /// did. The payment recorded before the send is fenced against Bridge's other flows, not against a manager or an invoice's
    /// completion: a payment closed by one of those between the record and the landing takes the line as a correction for the
    /// whole amount (AlreadyClosed), never a completion. Null when the answer fits neither (a change by hand landed with it):
    /// applied, but what it did is for an operator to tell. <paramref name="corrections"/> are read only when
    /// <see cref="AnswerNeedsCorrectionTotals"/> says so.
    /// </summary>
    public static LineApplied? FromAnswer(LineSent before, Payment after, IReadOnlyDictionary<string, PaymentCorrectionAttributes>? corrections = null)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var added = Added(before, after);
        var expected = Expected(before, after);
        var needsTotals = AnswerNeedsCorrectionTotals(before, after);
        if (needsTotals && corrections is null)
        {
            // Told apart only by the correction's total: the caller reads it first.
            return null;
        }

        var metClosed = needsTotals && corrections!.TryGetValue(added[0], out var correction) && correction.Total == expected.Paid;
        if (Matches(expected, before, after, added, corrections))
        {
            return new LineApplied(expected.Outcome, after.Id, after.Attributes.Status, expected.Correction is null ? null : added[0], "ActivePlatform's answer to the send");
        }

        if (metClosed)
        {
            return new LineApplied(
                PaymentCompletionOutcome.AlreadyClosed, after.Id, after.Attributes.Status, added[0],
                $"ActivePlatform's answer to the send: the payment, '{before.Status}' when the line was recorded, was closed by something else (its invoice's completion, a manager) before the line landed, and the line became a correction");
        }

        return null;
    }

    /// <summary>Why a line ActivePlatform answered is kept for an operator: its answer fits no change the line makes.</summary>
    public static string UnreadableAnswer(LineSent before, Payment after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        return "ActivePlatform answered the send, so the line was applied, but its answer fits no change the line makes on its own (something else changed the payment as it landed): " + Describe(before, after, Added(before, after));
    }

    private sealed record Expectation(PaymentCompletionOutcome Outcome, bool StatusChange, decimal? Correction, decimal? Paid);

    /// <summary>The documented matrix for the line against the payment recorded before its send.</summary>
    private static Expectation Expected(LineSent before, Payment now)
    {
        decimal? total = before.Total ?? now.Attributes.Total;
        var paid = before.Paid ?? total;
        return PaymentStatuses.IsClosed(before.Status) ? new(PaymentCompletionOutcome.AlreadyClosed, false, paid, paid)
            : paid == total ? new(PaymentCompletionOutcome.Completed, true, null, paid)
            : paid > total ? new(PaymentCompletionOutcome.Overpaid, true, paid - total, paid)
            : new(PaymentCompletionOutcome.PartiallyPaid, false, paid, paid);
    }

    /// <summary>Whether the payment shows exactly the expected change (correction totals checked when given).</summary>
    private static bool Matches(Expectation expected, LineSent before, Payment now, IReadOnlyList<string> added, IReadOnlyDictionary<string, PaymentCorrectionAttributes>? corrections)
    {
        var status = now.Attributes.Status;
        var statusAsExpected = expected.StatusChange
            ? PaymentStatuses.IsClosed(status) && !string.Equals(status, before.Status, StringComparison.Ordinal)
                && (before.PaymentMethodId is not { } method || now.Attributes.PaymentMethodId == method)
            : string.Equals(status, before.Status, StringComparison.Ordinal);
        var correctionsAsExpected = expected.Correction is null
            ? added.Count == 0
            : added.Count == 1 && (corrections is null || (corrections.TryGetValue(added[0], out var correction) && correction.Total == expected.Correction));
        return statusAsExpected && correctionsAsExpected;
    }

    /// <summary>Whether the payment is completed as the line completes an open payment: closed now, with the line's method.</summary>
    private static bool ClosedByLine(LineSent before, Payment now, long lineMethod)
        => !PaymentStatuses.IsClosed(before.Status)
            && PaymentStatuses.IsClosed(now.Attributes.Status)
            && now.Attributes.PaymentMethodId == lineMethod;

    private static List<string> Added(LineSent before, Payment now) => now.CorrectionIds.Except(before.CorrectionIds, StringComparer.Ordinal).ToList();

    private static string Describe(LineSent before, Payment now, IReadOnlyList<string> added) => string.Create(
        CultureInfo.InvariantCulture,
        $"before the send the payment was '{before.Status}' with {before.CorrectionIds.Count} correction(s); now it is '{now.Attributes.Status}'{(now.Attributes.PaymentMethodId is { } m ? $" with payment method {m}" : string.Empty)} and {added.Count} new correction(s)");

    /// <summary>The invoices a payment is linked to (a postpaid invoice's payment).</summary>
    public static IReadOnlyList<string> LinkedInvoices(Payment payment)
    {
        ArgumentNullException.ThrowIfNull(payment);
        return payment.Relationships?.GetValueOrDefault("invoices")?.Data?.Select(r => r.Id).Where(i => i.Length > 0).ToList() ?? [];
    }

    public static string UnknownInstructions(EffectId id, string paymentNumber, string? externalTransactionId, string reason)
        => $"Statement line {externalTransactionId} for payment {paymentNumber} was sent to ActivePlatform, and Bridge cannot tell what it did ({reason}). Check the payment's corrections and status in ActivePlatform. "
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
