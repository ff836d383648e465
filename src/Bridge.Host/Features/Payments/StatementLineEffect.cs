using System.Globalization;
using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;

namespace Bridge.Host.Features.Payments;

/// <summary>
/// What a statement line's journal entry records before the send: the payment as it was, what the line pays, the payment
/// method the line sets when it completes an open payment, and the payment's own trace of changes (<see cref="PaymentTrace"/>).
/// Entries written by an older Bridge have no method or trace, and are judged without them.
/// </summary>
public sealed record LineSent(
    string? PaymentId, string? Status, IReadOnlyList<string> CorrectionIds, decimal? Total, decimal? Paid, long? PaymentMethodId = null, PaymentTrace? Trace = null);

/// <summary>
/// What of the payment, besides its status and corrections, tells that something changed it: its payment method and its
/// <c>updated_at</c>. A line that lands saves the payment (it stores the line's transaction id, REFERENCE.md §2.5), so a
/// payment whose <c>updated_at</c> has not moved was not touched; one that moved was changed by something, even when its
/// status and corrections look as they did (a line that completed it, then a manager who reopened it).
/// </summary>
public sealed record PaymentTrace(long? PaymentMethodId, DateTimeOffset? UpdatedAt)
{
    public static PaymentTrace? Of(Payment? payment) => payment is null ? null : new(payment.Attributes.PaymentMethodId, payment.Attributes.UpdatedAt?.Value);
}

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
    /// once the line can no longer land (its in-flight window has passed), when its answer was lost. NotApplied only when the
    /// payment was not touched since the send (status, corrections, payment method and <c>updated_at</c> as they were): a
    /// change by something else never proves the line did not land, since a manager can undo what the line did (reopen what
    /// it completed). Applied only when the change is exactly the one the documented matrix (REFERENCE.md §2.5) gives for this
    /// line, its correction carrying ActivePlatform's own comment for a paid amount — a manager's correction of the same
    /// amount is not the line's. Anything else is Unknown, for an operator.
    /// </summary>
    public static (EffectState State, LineApplied? Applied, string Reason) Attribute(
        LineSent before, Payment now, IReadOnlyDictionary<string, PaymentCorrectionAttributes> corrections)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(now);
        ArgumentNullException.ThrowIfNull(corrections);
        var status = now.Attributes.Status;
        var added = Added(before, now);
        var described = Describe(before, now, added);
        var looksUnchanged = added.Count == 0 && string.Equals(status, before.Status, StringComparison.Ordinal);
        if (looksUnchanged && Untouched(before.Trace, now))
        {
            return (EffectState.NotApplied, null, "read back: the payment is as it was before the send, " + described);
        }

        if (looksUnchanged)
        {
            return (EffectState.Unknown, null, "read back: the payment's status and corrections are as they were, but it was changed since the send ("
                + TraceChange(before.Trace!, now) + "): the line may have completed it and a manager reopened it; " + described);
        }

        var expected = Expected(before, now);
        if (Matches(expected, before, now, added, corrections))
        {
            if (expected.Correction is null && before.Trace is { PaymentMethodId: { } had } && had == before.PaymentMethodId)
            {
                // The line's method is its only trace on a completion: a payment that carried it before the send (completed
                // with it once, then reopened) shows the same after anyone's completion.
                return (EffectState.Unknown, null, string.Create(CultureInfo.InvariantCulture, $"read back: the payment is completed with payment method {had}, which it already had before the send, so the completion cannot be told from someone else's; {described}"));
            }

            if (expected.Correction is null && LinkedInvoices(now) is { Count: > 0 } invoices)
            {
                // Completing a postpaid invoice completes its payment (REFERENCE.md §6), and what payment method that records
                // is not documented: a completion without a correction cannot be told from the invoice's.
                return (EffectState.Unknown, null, $"read back: the payment is completed as this line completes it, but it is linked to invoice {string.Join(", ", invoices)}, whose completion completes it too, and ActivePlatform does not tell which one did; {described}");
            }

            var how = "read back: the payment changed exactly as this line makes it change, " + described;
            return (EffectState.Applied, new LineApplied(expected.Outcome, now.Id, status, expected.Correction is null ? null : added[0], how), how);
        }

        return (EffectState.Unknown, null, "read back: the payment changed, but not exactly as this line would change it (something else changed it, and whether the line landed too cannot be told); " + described);
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

        var metClosed = needsTotals && corrections!.TryGetValue(added[0], out var correction) && correction.Total == expected.Paid
            && IsPlatformCorrection(correction, after);
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
        // A line that completes an open payment makes it Completed (REFERENCE.md §2.5), never cancelled, paid from balance or
        // pending billing: those closed statuses are someone else's.
        var statusAsExpected = expected.StatusChange
            ? string.Equals(status, PaymentStatuses.Completed, StringComparison.Ordinal) && !string.Equals(status, before.Status, StringComparison.Ordinal)
                && (before.PaymentMethodId is not { } method || now.Attributes.PaymentMethodId == method)
            : string.Equals(status, before.Status, StringComparison.Ordinal);
        var correctionsAsExpected = expected.Correction is null
            ? added.Count == 0
            : added.Count == 1 && (corrections is null
                || (corrections.TryGetValue(added[0], out var correction) && correction.Total == expected.Correction && IsPlatformCorrection(correction, now)));
        return statusAsExpected && correctionsAsExpected;
    }

    /// <summary>Whether the payment shows no change since <paramref name="trace"/> was taken (no trace recorded: not told).</summary>
    private static bool Untouched(PaymentTrace? trace, Payment now)
        => trace is null
            || (now.Attributes.PaymentMethodId == trace.PaymentMethodId
                && (trace.UpdatedAt is not { } then || now.Attributes.UpdatedAt is not { } changed || changed.Value == then));

    private static string TraceChange(PaymentTrace trace, Payment now) => string.Create(
        CultureInfo.InvariantCulture,
        $"payment method {Text(trace.PaymentMethodId)} then, {Text(now.Attributes.PaymentMethodId)} now; updated_at {trace.UpdatedAt?.ToString("O", CultureInfo.InvariantCulture) ?? "unknown"} then, {now.Attributes.UpdatedAt?.Text ?? "unknown"} now");

    private static string Text(long? method) => method?.ToString(CultureInfo.InvariantCulture) ?? "none";

    /// <summary>
    /// The comment ActivePlatform gives the correction a paid amount creates (REFERENCE.md §2.5); a manager's correction by
    /// hand carries their own. A platform that words it otherwise (another language) makes such corrections Unknown, never a
    /// line's by mistake.
    /// </summary>
    public static string PlatformCorrectionComment(string paymentNumber) => PlatformCommentStart + paymentNumber + PlatformCommentEnd;

    private const string PlatformCommentStart = "Accounting of the amount received on the basis of ";
    private const string PlatformCommentEnd = " from an external system.";

    /// <summary>Whether <paramref name="correction"/> carries ActivePlatform's comment for a paid amount on this payment.</summary>
    private static bool IsPlatformCorrection(PaymentCorrectionAttributes correction, Payment payment)
        => IsPlatformCorrection(correction, payment.Attributes.DocumentId);

    /// <summary>Whether <paramref name="correction"/> carries ActivePlatform's comment for a paid amount on payment <paramref name="number"/> (any payment when not known).</summary>
    public static bool IsPlatformCorrection(PaymentCorrectionAttributes correction, string? number)
    {
        ArgumentNullException.ThrowIfNull(correction);
        return correction.Comment is { } comment
            && (number is not null
                ? string.Equals(comment, PlatformCorrectionComment(number), StringComparison.Ordinal)
                : comment.StartsWith(PlatformCommentStart, StringComparison.Ordinal) && comment.EndsWith(PlatformCommentEnd, StringComparison.Ordinal));
    }

    /// <summary>Whether the line, applied, always made a correction: it paid part of an open payment, overpaid it, or met it closed.</summary>
    public static bool AlwaysMakesACorrection(LineSent before)
    {
        ArgumentNullException.ThrowIfNull(before);
        return PaymentStatuses.IsClosed(before.Status) || (before.Total is { } total && before.Paid is { } paid && paid != total);
    }

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
    /// payment as it was before the send (when that was recorded), with the correction the operator found (if the line made
    /// one, checked by <see cref="StatementLineResourceCheck"/> when they resolved it). A line that made a correction on a
    /// payment open before its send either paid part of it, overpaid it (a correction for the excess), or met it closed by
    /// something else (a correction for the whole amount): the correction's total tells which.
    /// </summary>
    public static LineApplied ByOperator(LineSent? before, Payment? now, OperatorResolution resolution, PaymentCorrectionAttributes? named = null)
    {
        ArgumentNullException.ThrowIfNull(resolution);
        var status = now?.Attributes.Status;
        var correction = resolution.ResourceId;
        PaymentCompletionOutcome outcome;
        if (before is { Status: { } statusBefore } && (before.Total ?? now?.Attributes.Total) is { } total)
        {
            var paid = before.Paid ?? total;
            outcome = PaymentStatuses.IsClosed(statusBefore) ? PaymentCompletionOutcome.AlreadyClosed
                : paid < total ? PaymentCompletionOutcome.PartiallyPaid
                : correction is null ? (paid == total ? PaymentCompletionOutcome.Completed : PaymentCompletionOutcome.Overpaid)
                : paid > total && named?.Total == paid - total ? PaymentCompletionOutcome.Overpaid
                : PaymentCompletionOutcome.AlreadyClosed;
        }
        else
        {
            outcome = correction is not null && PaymentStatuses.IsClosed(status) ? PaymentCompletionOutcome.AlreadyClosed
                : PaymentStatuses.IsClosed(status) ? PaymentCompletionOutcome.Completed
                : PaymentCompletionOutcome.PartiallyPaid;
        }

        return new LineApplied(outcome, now?.Id ?? before?.PaymentId, status, correction, $"resolved as applied by operator {resolution.ResolvedBy}: {resolution.Note}");
    }

    /// <summary>The line recorded before the send of an entry, whether still open (<see cref="LineSent"/>) or unresolved.</summary>
    public static LineSent? SentOf(EffectEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.EvidenceAs<LineUnresolved>()?.Before ?? (entry.EvidenceAs<LineSent>() is { CorrectionIds: not null } sent ? sent : null);
    }

    /// <summary>The line recorded before the send of an entry an operator resolved (kept in the resolution's evidence).</summary>
    public static LineSent? SentOf(OperatorResolution resolution)
    {
        ArgumentNullException.ThrowIfNull(resolution);
        return resolution.PreviousAs<LineUnresolved>()?.Before ?? (resolution.PreviousAs<LineSent>() is { CorrectionIds: not null } sent ? sent : null);
    }

    /// <summary>The correction totals this line can have made: its paid amount, or the excess of an overpayment.</summary>
    public static IReadOnlyList<decimal> PossibleCorrections(LineSent before)
    {
        ArgumentNullException.ThrowIfNull(before);
        var total = before.Total;
        var paid = before.Paid ?? total;
        return paid is not { } amount ? []
            : total is { } t && amount > t && !PaymentStatuses.IsClosed(before.Status) ? [amount, amount - t]
            : [amount];
    }
}
