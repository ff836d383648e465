using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Features.Payments;

namespace Bridge.Tests.Idempotency;

/// <summary>
/// The fast layer under the statement-line flow: what a read-back after a lost answer may conclude. Only the exact change
/// the documented matrix (REFERENCE.md §2.5) gives for the one line in flight is that line's; no change is "not applied";
/// anything else is unknown — never "applied" because something changed (issue 7, defect 1).
/// </summary>
public sealed class StatementLineAttributionTests
{
    private static Payment PaymentNow(string status, params (string Id, decimal Total)[] corrections) => new()
    {
        Id = "P-1",
        Attributes = new PaymentAttributes { Status = status, Total = 100m, DocumentId = Number },
        Relationships = new Dictionary<string, JsonApiRelationship>
        {
            ["corrections"] = new() { Data = [.. corrections.Select(c => new JsonApiResourceIdentifier { Id = c.Id, Type = "corrections" })] },
        },
    };

    private const string Number = "000101";

    /// <summary>Corrections as ActivePlatform makes them for a paid amount, with its own comment.</summary>
    private static Dictionary<string, PaymentCorrectionAttributes> Totals(params (string Id, decimal Total)[] corrections)
        => corrections.ToDictionary(c => c.Id, c => new PaymentCorrectionAttributes { Total = c.Total, Comment = StatementLineEffect.PlatformCorrectionComment(Number) });

    /// <summary>A correction a manager entered by hand, with a comment of their own.</summary>
    private static PaymentCorrectionAttributes ByHand(decimal total) => new() { Total = total, Comment = "received by phone, entered by hand" };

    private static PaymentTrace Trace(long? method, int minute) => new(method, new DateTimeOffset(2026, 12, 5, 10, minute, 0, TimeSpan.Zero));

    private static Payment Touched(Payment payment, long? method, int minute)
    {
        payment.Attributes.PaymentMethodId = method;
        payment.Attributes.UpdatedAt = new ApiTimestamp(new DateTimeOffset(2026, 12, 5, 10, minute, 0, TimeSpan.Zero), null);
        return payment;
    }

    private static LineSent Before(string status, decimal? paid, params string[] corrections) => new("P-1", status, corrections, 100m, paid);

    [Fact]
    public void Another_lines_correction_is_not_this_lines_effect()
    {
        // Line A (40) was sent and answered 503; line B (30) applied meanwhile.
        var (state, applied, _) = StatementLineEffect.Attribute(Before("waiting_for_payment", 40m), PaymentNow("waiting_for_payment", ("c-b", 30m)), Totals(("c-b", 30m)));

        Assert.NotEqual(EffectState.Applied, state);
        Assert.Null(applied);
    }

    [Fact]
    public void The_lines_own_partial_correction_is_attributed_to_it()
    {
        var (state, applied, _) = StatementLineEffect.Attribute(
            Before("waiting_for_payment", 40m, "c-old"), PaymentNow("waiting_for_payment", ("c-old", 10m), ("c-a", 40m)), Totals(("c-old", 10m), ("c-a", 40m)));

        Assert.Equal(EffectState.Applied, state);
        Assert.Equal((PaymentCompletionOutcome.PartiallyPaid, "c-a"), (applied!.Outcome, applied.CorrectionId));
    }

    [Fact]
    public void An_unchanged_payment_means_not_applied()
    {
        var (state, applied, _) = StatementLineEffect.Attribute(Before("waiting_for_payment", 40m, "c-old"), PaymentNow("waiting_for_payment", ("c-old", 10m)), Totals(("c-old", 10m)));

        Assert.Equal(EffectState.NotApplied, state);
        Assert.Null(applied);
    }

    [Fact]
    public void A_full_payment_is_attributed_by_its_completion_without_a_correction()
    {
        var (state, applied, _) = StatementLineEffect.Attribute(Before("waiting_for_payment", null), PaymentNow("completed"), Totals());

        Assert.Equal(EffectState.Applied, state);
        Assert.Equal((PaymentCompletionOutcome.Completed, (string?)null), (applied!.Outcome, applied.CorrectionId));
    }

    [Fact]
    public void An_overpayment_is_attributed_only_with_a_correction_for_the_excess()
    {
        var right = StatementLineEffect.Attribute(Before("waiting_for_payment", 150m), PaymentNow("completed", ("c-x", 50m)), Totals(("c-x", 50m)));
        var wrong = StatementLineEffect.Attribute(Before("waiting_for_payment", 150m), PaymentNow("completed", ("c-x", 150m)), Totals(("c-x", 150m)));

        Assert.Equal((EffectState.Applied, PaymentCompletionOutcome.Overpaid), (right.State, right.Applied!.Outcome));
        Assert.Equal(EffectState.Unknown, wrong.State);
    }

    [Fact]
    public void A_completion_by_hand_and_a_correction_of_another_amount_is_unknown_not_applied()
    {
        var (state, _, reason) = StatementLineEffect.Attribute(Before("waiting_for_payment", 40m), PaymentNow("completed", ("c-y", 40m)), Totals(("c-y", 40m)));

        Assert.Equal(EffectState.Unknown, state);
        Assert.Contains("not exactly", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void On_a_closed_payment_the_line_is_its_correction_for_the_paid_amount()
    {
        var (state, applied, _) = StatementLineEffect.Attribute(Before("completed", 25m), PaymentNow("completed", ("c-z", 25m)), Totals(("c-z", 25m)));

        Assert.Equal(EffectState.Applied, state);
        Assert.Equal((PaymentCompletionOutcome.AlreadyClosed, "c-z"), (applied!.Outcome, applied.CorrectionId));
    }

    private static LineSent LineOf(string status, decimal? paid, long method, params string[] corrections) => new("P-1", status, corrections, 100m, paid, method);

    private static Payment WithMethod(Payment payment, long? method, params string[] invoices)
    {
        payment.Attributes.PaymentMethodId = method;
        if (invoices.Length > 0)
        {
            payment.Relationships = new Dictionary<string, JsonApiRelationship>(payment.Relationships!)
            {
                ["invoices"] = new() { Data = [.. invoices.Select(i => new JsonApiResourceIdentifier { Id = i, Type = "invoices" })] },
            };
        }

        return payment;
    }

    [Fact]
    public void A_full_line_whose_answer_shows_a_correction_met_a_payment_closed_by_something_else()
    {
        // Recorded open; a manager (or the invoice's completion) closed the payment before the line landed, so ActivePlatform
        // took the line as a correction for the whole amount. Reporting "Completed" would hide that correction.
        var before = LineOf("waiting_for_payment", 100m, 2);
        var answer = WithMethod(PaymentNow("completed", ("c-1", 100m)), null);
        var applied = StatementLineEffect.FromAnswer(before, answer, Totals(("c-1", 100m)));

        Assert.True(StatementLineEffect.AnswerNeedsCorrectionTotals(before, answer));
        Assert.Null(StatementLineEffect.FromAnswer(before, answer));
        Assert.NotNull(applied);
        Assert.Equal((PaymentCompletionOutcome.AlreadyClosed, "c-1"), (applied.Outcome, applied.CorrectionId));
    }

    [Fact]
    public void A_partial_line_whose_answer_shows_the_payment_closed_is_reported_with_its_correction_as_already_closed()
    {
        var applied = StatementLineEffect.FromAnswer(LineOf("waiting_for_payment", 40m, 2), WithMethod(PaymentNow("completed", ("c-1", 40m)), null), Totals(("c-1", 40m)));

        Assert.NotNull(applied);
        Assert.Equal((PaymentCompletionOutcome.AlreadyClosed, "c-1"), (applied.Outcome, applied.CorrectionId));
    }

    [Fact]
    public void An_overpayments_answer_is_told_from_a_line_that_met_a_closed_payment_by_its_correction_total()
    {
        var before = LineOf("waiting_for_payment", 150m, 2);
        var answer = WithMethod(PaymentNow("completed", ("c-1", 0m)), 2);

        Assert.True(StatementLineEffect.AnswerNeedsCorrectionTotals(before, answer));
        Assert.Null(StatementLineEffect.FromAnswer(before, answer));
        Assert.Equal(PaymentCompletionOutcome.Overpaid, StatementLineEffect.FromAnswer(before, answer, Totals(("c-1", 50m)))!.Outcome);
        Assert.Equal(PaymentCompletionOutcome.AlreadyClosed, StatementLineEffect.FromAnswer(before, answer, Totals(("c-1", 150m)))!.Outcome);
        Assert.False(StatementLineEffect.AnswerNeedsCorrectionTotals(LineOf("waiting_for_payment", 40m, 2), WithMethod(PaymentNow("waiting_for_payment", ("c-1", 40m)), null)));
        Assert.False(StatementLineEffect.AnswerNeedsCorrectionTotals(LineOf("waiting_for_payment", 100m, 2), WithMethod(PaymentNow("completed"), 2)));
    }

    [Fact]
    public void Another_lines_late_correction_in_a_completions_answer_is_not_taken_for_this_lines()
    {
        // A line of 40 whose outcome is unknown lands while this full line of 100 is sent: the answer shows the payment
        // completed (by this line) and one new correction — of 40, not 100, so not this line's.
        var before = LineOf("waiting_for_payment", 100m, 2);
        var answer = WithMethod(PaymentNow("completed", ("c-a", 40m)), 2);

        Assert.True(StatementLineEffect.AnswerNeedsCorrectionTotals(before, answer));
        Assert.Null(StatementLineEffect.FromAnswer(before, answer, Totals(("c-a", 40m))));
    }

    [Fact]
    public void An_answer_that_fits_no_change_of_the_line_is_not_read_as_one()
    {
        Assert.Null(StatementLineEffect.FromAnswer(LineOf("waiting_for_payment", 100m, 2), WithMethod(PaymentNow("completed", ("c-1", 100m), ("c-2", 5m)), null), Totals(("c-1", 100m), ("c-2", 5m))));
        Assert.Null(StatementLineEffect.FromAnswer(LineOf("waiting_for_payment", 100m, 2), WithMethod(PaymentNow("waiting_for_payment"), null)));
        Assert.Equal(PaymentCompletionOutcome.Completed, StatementLineEffect.FromAnswer(LineOf("waiting_for_payment", 100m, 2), WithMethod(PaymentNow("completed"), 2))!.Outcome);
    }

    [Fact]
    public void A_payment_closed_by_something_else_without_a_trace_of_the_line_is_unknown_never_a_reason_to_send_it_again()
    {
        // The line's answer was lost; the payment is now completed by hand (another method, no correction). The line may still
        // have landed first — completing it with its method — and a manager reopened and completed it again: sent again, the
        // line would land a second time as a correction. Nothing shows which, so it is for an operator.
        var (state, applied, reason) = StatementLineEffect.Attribute(
            LineOf("waiting_for_payment", 100m, 2) with { Trace = Trace(null, 0) }, Touched(PaymentNow("completed"), 1, 5), Totals());

        Assert.Equal(EffectState.Unknown, state);
        Assert.Null(applied);
        Assert.Contains("not exactly as this line would change it", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_payment_that_looks_as_before_but_was_changed_since_the_send_is_unknown_not_unapplied()
    {
        // The line completed the payment (method 2) and its answer was lost; a manager reopened it. Status and corrections are
        // as they were — but the method the line set, and updated_at, moved: sent again, it would land twice.
        var reopened = StatementLineEffect.Attribute(
            LineOf("waiting_for_payment", 100m, 2) with { Trace = Trace(null, 0) }, Touched(PaymentNow("waiting_for_payment"), 2, 5), Totals());
        var touchedOnly = StatementLineEffect.Attribute(
            LineOf("waiting_for_payment", 100m, 2) with { Trace = Trace(2, 0) }, Touched(PaymentNow("waiting_for_payment"), 2, 5), Totals());
        var untouched = StatementLineEffect.Attribute(
            LineOf("waiting_for_payment", 100m, 2) with { Trace = Trace(2, 0) }, Touched(PaymentNow("waiting_for_payment"), 2, 0), Totals());

        Assert.Equal(EffectState.Unknown, reopened.State);
        Assert.Contains("reopened", reopened.Reason, StringComparison.Ordinal);
        Assert.Equal(EffectState.Unknown, touchedOnly.State);
        Assert.Equal(EffectState.NotApplied, untouched.State);
    }

    [Fact]
    public void A_managers_correction_of_the_lines_amount_is_not_the_lines()
    {
        var (state, applied, _) = StatementLineEffect.Attribute(
            Before("waiting_for_payment", 40m), PaymentNow("waiting_for_payment", ("c-m", 40m)), new Dictionary<string, PaymentCorrectionAttributes> { ["c-m"] = ByHand(40m) });
        var closed = StatementLineEffect.Attribute(
            Before("completed", 100m), PaymentNow("completed", ("c-m", 100m)), new Dictionary<string, PaymentCorrectionAttributes> { ["c-m"] = ByHand(100m) });

        Assert.Equal((EffectState.Unknown, null), (state, applied));
        Assert.Equal(EffectState.Unknown, closed.State);
    }

    [Fact]
    public void An_answer_where_the_line_completed_the_payment_beside_a_managers_correction_of_its_amount_is_not_read_as_already_closed()
    {
        // The manager entered a correction of 100 by hand as the line landed and completed the payment with its method: the
        // correction is not the line's, and the line is not AlreadyClosed.
        var answer = WithMethod(PaymentNow("completed", ("c-m", 100m)), 2);

        Assert.Null(StatementLineEffect.FromAnswer(LineOf("waiting_for_payment", 100m, 2), answer, new Dictionary<string, PaymentCorrectionAttributes> { ["c-m"] = ByHand(100m) }));
    }

    [Fact]
    public void A_payment_completed_with_the_lines_method_is_the_lines_unless_its_invoice_may_have_completed_it()
    {
        var mine = StatementLineEffect.Attribute(LineOf("waiting_for_payment", 100m, 2), WithMethod(PaymentNow("completed"), 2), Totals());
        var invoices = StatementLineEffect.Attribute(LineOf("waiting_for_payment", 100m, 2), WithMethod(PaymentNow("completed"), 2, "I-9"), Totals());

        Assert.Equal((EffectState.Applied, PaymentCompletionOutcome.Completed), (mine.State, mine.Applied!.Outcome));
        Assert.Equal(EffectState.Unknown, invoices.State);
        Assert.Contains("invoice I-9", invoices.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PaymentStatuses.Cancelled)]
    [InlineData(PaymentStatuses.PaidFromBalance)]
    [InlineData(PaymentStatuses.PendingBilling)]
    public void A_payment_closed_in_a_status_the_line_never_sets_is_not_the_lines_completion(string status)
    {
        // Found by review (helper-71): the line (full, method 2) never landed; the payment was cancelled or paid from balance
        // meanwhile. Only Completed is what a line sets.
        var (state, applied, _) = StatementLineEffect.Attribute(
            LineOf("waiting_for_payment", 100m, 2) with { Trace = Trace(null, 0) }, Touched(PaymentNow(status), 2, 5), Totals());

        Assert.NotEqual(EffectState.Applied, state);
        Assert.Null(applied);
    }

    [Fact]
    public void A_payment_method_the_payment_already_had_before_the_send_is_no_trace_of_the_line()
    {
        // Completed once with method 2 and reopened: anyone's completion with method 2 looks like the line's.
        var (state, applied, reason) = StatementLineEffect.Attribute(
            LineOf("waiting_for_payment", 100m, 2) with { Trace = Trace(2, 0) }, Touched(PaymentNow("completed"), 2, 5), Totals());

        Assert.Equal((EffectState.Unknown, null), (state, applied));
        Assert.Contains("already had before the send", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("completed", 40, true)]
    [InlineData("waiting_for_payment", 40, true)]
    [InlineData("waiting_for_payment", 130, true)]
    [InlineData("waiting_for_payment", 100, false)]
    public void Only_a_full_line_on_an_open_payment_can_be_applied_without_a_correction(string statusBefore, int paid, bool makesOne)
    {
        Assert.Equal(makesOne, StatementLineEffect.AlwaysMakesACorrection(new LineSent("P-1", statusBefore, [], 100m, paid, 2)));
    }

    [Fact]
    public void An_operators_resolution_names_what_the_line_did_by_the_correction_they_found()
    {
        var resolution = new OperatorResolution("olga", "seen", EffectState.Applied, EffectState.Unknown, "c-9", DateTimeOffset.UnixEpoch, null);
        var none = resolution with { ResourceId = null };

        // A full line on an open payment that made a correction met the payment closed by something else.
        Assert.Equal(PaymentCompletionOutcome.AlreadyClosed, StatementLineEffect.ByOperator(Before("waiting_for_payment", 100m), PaymentNow("completed"), resolution, new() { Total = 100m }).Outcome);
        Assert.Equal(PaymentCompletionOutcome.Completed, StatementLineEffect.ByOperator(Before("waiting_for_payment", 100m), PaymentNow("completed"), none).Outcome);
        // An overpayment's correction is for the excess; one for the whole amount means the payment was closed before it.
        Assert.Equal(PaymentCompletionOutcome.Overpaid, StatementLineEffect.ByOperator(Before("waiting_for_payment", 130m), PaymentNow("completed"), resolution, new() { Total = 30m }).Outcome);
        Assert.Equal(PaymentCompletionOutcome.AlreadyClosed, StatementLineEffect.ByOperator(Before("waiting_for_payment", 130m), PaymentNow("completed"), resolution, new() { Total = 130m }).Outcome);
        Assert.Equal(PaymentCompletionOutcome.PartiallyPaid, StatementLineEffect.ByOperator(Before("waiting_for_payment", 40m), PaymentNow("waiting_for_payment"), resolution, new() { Total = 40m }).Outcome);
        Assert.Equal([130m, 30m], StatementLineEffect.PossibleCorrections(Before("waiting_for_payment", 130m)));
        Assert.Equal([40m], StatementLineEffect.PossibleCorrections(Before("completed", 40m)));
    }

    [Theory]
    [InlineData(429, true)]
    [InlineData(503, false)]
    [InlineData(422, true)]
    [InlineData(404, true)]
    [InlineData(408, false)]
    [InlineData(500, false)]
    [InlineData(502, false)]
    [InlineData(504, false)]
    public void Only_answers_that_prove_nothing_happened_clear_an_effect(int status, bool provesNotApplied)
    {
        var exception = status >= 500 || status is 408 or 429
            ? (Exception)new Bridge.ActivePlatform.ActivePlatformTransientException("x", new Bridge.ActivePlatform.ActivePlatformFailureDetails { Status = status })
            : new Bridge.ActivePlatform.ActivePlatformPermanentException("x", new Bridge.ActivePlatform.ActivePlatformFailureDetails { Status = status });

        Assert.Equal(provesNotApplied, EffectFailures.ProvesNotApplied(exception));
    }

    [Fact]
    public void A_timeout_never_clears_an_effect()
    {
        var timeout = new Bridge.ActivePlatform.ActivePlatformTransientException("timed out", new TimeoutException());

        Assert.False(EffectFailures.ProvesNotApplied(timeout));
    }
}
