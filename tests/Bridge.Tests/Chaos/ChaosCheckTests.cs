using Bridge.Chaos;
using Bridge.Chaos.Checking;
using Bridge.Chaos.Faults;
using Bridge.Chaos.Generation;
using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Tests.Chaos;

/// <summary>The chaos suite's own pieces, without services: the generator is reproducible, and the checks catch what they name.</summary>
public sealed class ChaosCheckTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_same_seed_gives_the_same_stream_and_schedule_and_another_seed_another()
    {
        static string Stream(int seed)
        {
            var generator = ScenarioGenerator.Plan(seed, 300, new HashSet<Flow>());
            var id = 3000;
            foreach (var payment in generator.World.Payments)
            {
                payment.Seeded = new SandboxPayment((++id).ToString(), 1, payment.AccountId, id.ToString("D6"), "100.0", "USD", payment.Status, false, null, null, [], []);
            }

            foreach (var invoice in generator.World.Invoices)
            {
                invoice.Seeded = new SandboxInvoice((++id).ToString(), 1, invoice.AccountId, invoice.BillingDate, invoice.BillingDate.AddMonths(1), "1.0", "postpay", "closed",
                    "INV", "INV", false, null, "1", "waiting_for_payment", null, null, null);
            }

            var plan = generator.Emit();
            return string.Join('\n', plan.Stream.Select(p => $"{p.Message.IdempotencyKey}|{p.Copy}|{System.Text.Encoding.UTF8.GetString(p.Message.Body)}"));
        }

        Assert.Equal(Stream(42), Stream(42));
        Assert.NotEqual(Stream(42), Stream(43));
        Assert.Equal(FaultSchedule.Build(42, 300, 3, 1, true, true).Select(a => a.ToString()), FaultSchedule.Build(42, 300, 3, 1, true, true).Select(a => a.ToString()));
    }

    [Fact]
    public void Every_flow_and_every_fault_kind_is_in_a_run()
    {
        var generator = ScenarioGenerator.Plan(7, 600, new HashSet<Flow>());
        var schedule = FaultSchedule.Build(7, 600, kills: 4, restarts: 2, canRestartServices: true, hasPostgres: true);
        var faults = string.Join(' ', schedule.OfType<SetFaults>().Select(f => f.Description));

        Assert.Equal(Enum.GetValues<Flow>().Length, ScenarioGenerator.Families().Select(f => f.Flow).Distinct().Count());
        Assert.True(generator.World.Payments.Count > 0 && generator.World.Invoices.Count > 0);
        foreach (var kind in new[] { "latency", "429 Retry-After", "hang past the client timeout", "answer lost after the effect", "past the polling deadline", "carried out" })
        {
            Assert.Contains(kind, faults, StringComparison.Ordinal);
        }

        Assert.Matches("5\\d\\d on", faults);
        Assert.Equal(4 + 1, schedule.Count(a => a is KillInstance or ReplayThenKill));
        Assert.Equal(2, schedule.OfType<RestartBroker>().Count());
        Assert.Equal(2, schedule.OfType<RestartDatabase>().Count());
    }

    [Fact]
    public void Pauses_outlast_a_claim_lease_and_leave_a_seeds_other_disturbances_as_they_were()
    {
        var lease = TimeSpan.FromSeconds(3);
        var without = FaultSchedule.Build(11, 500, kills: 3, restarts: 1, canRestartServices: true, hasPostgres: true);
        var with = FaultSchedule.Build(11, 500, kills: 3, restarts: 1, canRestartServices: true, hasPostgres: true, pauses: 4, claimLease: lease);

        var pauses = with.OfType<PauseInstance>().ToList();
        Assert.Equal(4, pauses.Count);
        Assert.All(pauses, p => Assert.InRange(p.Duration, lease * 1.2, lease * 2.2));
        Assert.All(pauses, p => Assert.InRange(p.Instance, 0, 1));
        Assert.Equal(without.Select(a => a.ToString()), with.Where(a => a is not PauseInstance).Select(a => a.ToString()));
    }

    [Fact]
    public void The_late_landing_share_sets_which_faulting_phases_land_calls_late_and_nothing_else()
    {
        static IReadOnlyList<ChaosAction> Schedule(double share) =>
            FaultSchedule.Build(13, 800, kills: 3, restarts: 1, canRestartServices: true, hasPostgres: true, pauses: 2, lateLandings: share);
        static bool Late(FaultRule rule) => rule.LandLateRate > 0 || rule.LandLateNext > 0;
        static IEnumerable<string> WithoutLateLandings(IReadOnlyList<ChaosAction> schedule) => schedule.Select(a => a is SetFaults set
            ? $"{set.AtPublication} {set.PollsToComplete} {string.Join(",", set.Rules.Where(r => !Late(r)).Select(r => $"{r.PathContains} {r.Method} {r.ErrorRate} {r.ThrottleRate} {r.HangRate} {r.LoseAnswerRate} {r.LatencyMs}"))}"
            : a.ToString()!);
        static IReadOnlyList<SetFaults> Faulting(IReadOnlyList<ChaosAction> schedule) =>
            [.. schedule.OfType<SetFaults>().Where(s => s.Rules.Any(r => !Late(r)) || s.PollsToComplete != FaultSchedule.NormalPolls)];

        var none = Schedule(0);
        var usual = Schedule(FaultSchedule.DefaultLateLandingShare);
        var every = Schedule(1);

        Assert.DoesNotContain(none.OfType<SetFaults>(), s => s.Rules.Any(Late));
        Assert.All(Faulting(every), s => Assert.Single(s.Rules, Late));
        var some = Faulting(usual).Count(s => s.Rules.Any(Late));
        Assert.InRange(some, 1, Faulting(usual).Count - 1);

        // The share changes the late landings only: every other fault, kill, restart and pause is the seed's own.
        Assert.Equal(WithoutLateLandings(none), WithoutLateLandings(usual));
        Assert.Equal(WithoutLateLandings(none), WithoutLateLandings(every));
        Assert.Equal(0.3, ChaosOptions.Parse([]).LateLandings);
        Assert.Equal(1, ChaosOptions.Parse(["--late-landings", "1"]).LateLandings);
        Assert.Throws<ArgumentException>(() => ChaosOptions.Parse(["--late-landings", "1.5"]));
    }

    [Fact]
    public void A_message_answered_twice_and_one_never_answered_are_violations()
    {
        var run = new RunBuilder();
        var twice = run.Message(new CancelPayment { PaymentId = "1" }, "1", Flow.PaymentStatus);
        var never = run.Message(new CancelPayment { PaymentId = "2" }, "2", Flow.PaymentStatus);
        var once = run.Message(new CancelPayment { PaymentId = "3" }, "3", Flow.PaymentStatus);
        run.Event(Cancelled(twice, "1"));
        run.Event(Cancelled(twice, "1"));
        run.Event(Cancelled(once, "3"));

        var violations = new OutcomeChecks().Check(run.Index()).ToList();

        Assert.Equal(2, violations.Count);
        Assert.Contains(violations, v => v.Invariant == Invariants.OneOutcome && v.Messages.Contains(twice) && v.Detail.StartsWith("2 result event(s)", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Invariant == Invariants.OneOutcome && v.Messages.Contains(never) && v.Detail.StartsWith("no terminal outcome", StringComparison.Ordinal));
    }

    [Fact]
    public void A_statement_line_reported_with_another_lines_correction_is_caught()
    {
        var run = new RunBuilder();
        var first = run.Message(Line("stmt-1"), "002100", Flow.StatementLines);
        var second = run.Message(Line("stmt-2"), "002100", Flow.StatementLines);
        run.Effect(EffectKinds.PaymentLineApplied, "002100", ("externalTransactionId", "stmt-1"), ("amount", "40.0"), ("statusBefore", "waiting_for_payment"),
            ("statusAfter", "waiting_for_payment"), ("correctionId", "9001"));
        run.Event(Completed(first, "stmt-1", 40m, "9001"));
        run.Event(Completed(second, "stmt-2", 30m, "9001"));
        run.Payments.Add(new SandboxPayment("2100", 1, 523, "002100", "100.0", "USD", "waiting_for_payment", false, null, null, ["stmt-1"], ["9001"]));

        var violations = new StatementLineChecks().Check(run.Index()).ToList();

        var violation = Assert.Single(violations);
        Assert.Equal(Invariants.EffectBehindSuccess, violation.Invariant);
        Assert.Equal([second], violation.Messages);
    }

    [Fact]
    public void Two_payloads_under_one_key_are_answered_when_the_owner_loses_its_statement_line_to_a_third_message()
    {
        // Seed 142: #50 (101.00) under #49's id, #51 (103.00) for the same line under an id of its own. #51 applied the line
        // first, so the key's owner is refused by the line (a natural-key conflict is its answer) and the other payload by
        // the key: two IdempotencyConflict rejections under one key, and one of them is an answer.
        var run = new RunBuilder();
        var original = run.Message(Line("stmt-6-1", 100m), "003012", Flow.StatementLines, Expectation.ValidOrConflict);
        var conflict = run.Message(Line("stmt-6-1", 101m), "003012", Flow.StatementLines, idempotencyKey: original.IdempotencyKey);
        var changed = run.Message(Line("stmt-6-1", 103m), "003012", Flow.StatementLines, Expectation.ValidOrConflict);
        run.Effect(EffectKinds.PaymentLineApplied, "003012", ("externalTransactionId", "stmt-6-1"), ("amount", "103.0"), ("statusBefore", "waiting_for_payment"),
            ("statusAfter", "waiting_for_payment"), ("correctionId", "9001"));
        run.Event(Refused(original, $"Idempotency key '{original.IdempotencyKey}' was already used by a CompletePayment with a different payload; this message was not applied."));
        run.Event(Completed(changed, "stmt-6-1", 103m, "9001") with { Key = "003012", PaymentNumber = "003012" });
        run.Event(Refused(conflict, "Statement line stmt-6-1 for payment 003012 was already applied with other figures (amount, currency or payment method); this message was not applied."));
        run.Payments.Add(new SandboxPayment("3012", 1, 523, "003012", "250.0", "USD", "waiting_for_payment", false, null, null, ["stmt-6-1"], ["9001"]));

        var index = run.Index();
        var violations = new OutcomeChecks().Check(index).Concat(new StatementLineChecks().Check(index)).ToList();

        Assert.Empty(violations.Select(v => $"{v.Invariant}: {v.Detail}"));
    }

    [Fact]
    public void Two_payloads_under_one_key_both_refused_by_the_key_are_a_violation()
    {
        var run = new RunBuilder();
        var original = run.Message(Line("stmt-6-1", 100m), "003012", Flow.StatementLines, Expectation.ValidOrConflict);
        var conflict = run.Message(Line("stmt-6-1", 101m), "003012", Flow.StatementLines, idempotencyKey: original.IdempotencyKey);
        var byKey = $"Idempotency key '{original.IdempotencyKey}' was already used by a CompletePayment with a different payload; this message was not applied.";
        run.Event(Refused(original, byKey));
        run.Event(Refused(conflict, byKey));

        var violation = Assert.Single(new OutcomeChecks().Check(run.Index()));

        Assert.Equal(Invariants.OneOutcome, violation.Invariant);
        Assert.StartsWith("2 payloads under one key, every answer an IdempotencyConflict", violation.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_older_revision_written_after_a_newer_one_is_caught_even_when_the_newest_ends_on_top()
    {
        var run = new RunBuilder();
        var r1 = run.Message(Document(1), ClosingDocumentScenarios.Subject(7001, "doc-1"), Flow.ClosingDocuments);
        var r2 = run.Message(Document(2), ClosingDocumentScenarios.Subject(7001, "doc-1"), Flow.ClosingDocuments);
        run.Effect(EffectKinds.ExternalInvoiceCreated, "doc-1", ("id", "1001"), ("accountId", "7001"), ("name", "Act 1 r2"), ("total", "102.0"));
        run.Effect(EffectKinds.ExternalInvoiceUpdated, "doc-1", ("id", "1001"), ("accountId", "7001"), ("name", "Act 1 r1"), ("total", "101.0"));
        run.Effect(EffectKinds.ExternalInvoiceUpdated, "doc-1", ("id", "1001"), ("accountId", "7001"), ("name", "Act 1 r2"), ("total", "102.0"));
        run.Event(Sent(r1, 1, ClosingDocumentWriteOutcome.Updated));
        run.Event(Sent(r2, 2, ClosingDocumentWriteOutcome.Created));
        run.Documents.Add(new SandboxExternalInvoice("1001", 1, 7001, "doc-1", "act", "Act 1 r2", "102.0", "EUR", "2026-10-01", "2026-10-31", "application/pdf", 10, T0, T0, 3));

        var violations = new ClosingDocumentChecks().Check(run.Index()).ToList();

        Assert.Contains(violations, v => v.Invariant == Invariants.Ordering && v.Detail.StartsWith("version r1 written", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)] // r2 created the document again after the delete at r3
    public void A_delete_at_a_version_newer_than_every_version_must_be_the_last_word(bool heldAtTheEnd, bool violation)
    {
        var run = new RunBuilder();
        var subject = ClosingDocumentScenarios.Subject(7001, "doc-1");
        var r1 = run.Message(Document(1), subject, Flow.ClosingDocuments);
        var delete = run.Message(new DeleteClosingDocument { AccountId = 7001, Key = "doc-1", Revision = 3 }, subject, Flow.ClosingDocuments);
        var r2 = run.Message(Document(2), subject, Flow.ClosingDocuments);
        run.Effect(EffectKinds.ExternalInvoiceCreated, "doc-1", ("id", "1001"), ("accountId", "7001"), ("name", "Act 1 r1"), ("total", "101.0"));
        run.Effect(EffectKinds.ExternalInvoiceDeleted, "doc-1", ("id", "1001"), ("accountId", "7001"), ("name", "Act 1 r1"), ("total", "101.0"));
        run.Event(Sent(r1, 1, ClosingDocumentWriteOutcome.Created));
        run.Event(new ClosingDocumentDeleted { Key = "doc-1", MessageId = delete.IdempotencyKey, CorrelationId = "c", OccurredAt = T0.AddSeconds(1.5), AccountId = 7001, ExternalInvoiceId = "1001", WasPresent = true });
        if (heldAtTheEnd)
        {
            run.Effect(EffectKinds.ExternalInvoiceCreated, "doc-1", ("id", "1002"), ("accountId", "7001"), ("name", "Act 1 r2"), ("total", "102.0"));
            run.Event(Sent(r2, 2, ClosingDocumentWriteOutcome.Created) with { ExternalInvoiceId = "1002" });
            run.Documents.Add(new SandboxExternalInvoice("1002", 1, 7001, "doc-1", "act", "Act 1 r2", "102.0", "EUR", "2026-10-01", "2026-10-31", "application/pdf", 10, T0, T0, 1));
        }
        else
        {
            run.Event(new ClosingDocumentSkipped
            {
                Key = "doc-1", MessageId = r2.IdempotencyKey, CorrelationId = "c", OccurredAt = T0.AddSeconds(4), AccountId = 7001,
                SkippedVersion = "revision 2", AppliedVersion = "revision 3", DeletedAfter = true,
            });
        }

        var ordering = new ClosingDocumentChecks().Check(run.Index()).Where(v => v.Invariant == Invariants.Ordering).ToList();

        Assert.Equal(violation, ordering.Any(v => v.Detail.Contains("newer than every version", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(true, true, false)] // a delete came after r2, which may never have reached ActivePlatform
    [InlineData(false, true, true)] // "r2 applied", and ActivePlatform never received it
    [InlineData(true, false, true)] // "deleted after", and no delete was reported
    public void A_skip_names_a_version_received_or_says_a_reported_delete_came_after_it(bool deletedAfter, bool deleteReported, bool violation)
    {
        // Smoke seed 20261201: r2's update began and its instance was killed before the PATCH went out; a delete settled it
        // (counted as written) and removed r1's document; r2's own retry was skipped as "older than r2".
        var run = new RunBuilder();
        var subject = ClosingDocumentScenarios.Subject(7001, "doc-1");
        var r1 = run.Message(Document(1), subject, Flow.ClosingDocuments);
        var r2 = run.Message(Document(2), subject, Flow.ClosingDocuments);
        var delete = run.Message(new DeleteClosingDocument { AccountId = 7001, Key = "doc-1" }, subject, Flow.ClosingDocuments);
        run.Effect(EffectKinds.ExternalInvoiceCreated, "doc-1", ("id", "1001"), ("accountId", "7001"), ("name", "Act 1 r1"), ("total", "101.0"));
        run.Effect(EffectKinds.ExternalInvoiceDeleted, "doc-1", ("id", "1001"), ("accountId", "7001"), ("name", "Act 1 r1"), ("total", "101.0"));
        run.Event(Sent(r1, 1, ClosingDocumentWriteOutcome.Created));
        if (deleteReported)
        {
            run.Event(new ClosingDocumentDeleted { Key = "doc-1", MessageId = delete.IdempotencyKey, CorrelationId = "c", OccurredAt = T0.AddSeconds(3), AccountId = 7001, ExternalInvoiceId = "1001", WasPresent = true });
        }

        run.Event(new ClosingDocumentSkipped
        {
            Key = "doc-1", MessageId = r2.IdempotencyKey, CorrelationId = "c", OccurredAt = T0.AddSeconds(4), AccountId = 7001,
            SkippedVersion = "revision 2", AppliedVersion = "revision 2", DeletedAfter = deletedAfter,
        });

        var ordering = new ClosingDocumentChecks().Check(run.Index()).Where(v => v.Invariant == Invariants.Ordering).ToList();

        Assert.Equal(violation, ordering.Count > 0);
    }

    [Theory]
    [InlineData("revision 2", false, false)] // the delete names r2, which created the document again: r2 is the last word
    [InlineData(null, true, false)] // the delete's answer, last, names nothing: taken for the last word
    [InlineData("revision 3", false, true)] // names a version never reported sent
    public void A_delete_answered_after_the_version_that_created_the_document_again_names_it(string? supersededBy, bool figures, bool ordering)
    {
        // Seed 1252: the delete's answer was lost; r2 settled it (the document gone by key), created the document again and
        // was answered; the delete's retry was answered after it.
        var run = new RunBuilder();
        var subject = ClosingDocumentScenarios.Subject(7001, "doc-1");
        var r1 = run.Message(Document(1), subject, Flow.ClosingDocuments);
        var delete = run.Message(new DeleteClosingDocument { AccountId = 7001, Key = "doc-1" }, subject, Flow.ClosingDocuments);
        var r2 = run.Message(Document(2), subject, Flow.ClosingDocuments);
        run.Effect(EffectKinds.ExternalInvoiceCreated, "doc-1", ("id", "1001"), ("accountId", "7001"), ("name", "Act 1 r1"), ("total", "101.0"));
        run.Effect(EffectKinds.ExternalInvoiceDeleted, "doc-1", ("id", "1001"), ("accountId", "7001"), ("name", "Act 1 r1"), ("total", "101.0"));
        run.Effect(EffectKinds.ExternalInvoiceCreated, "doc-1", ("id", "1002"), ("accountId", "7001"), ("name", "Act 1 r2"), ("total", "102.0"));
        run.Event(Sent(r1, 1, ClosingDocumentWriteOutcome.Created));
        run.Event(Sent(r2, 2, ClosingDocumentWriteOutcome.Created) with { ExternalInvoiceId = "1002", OccurredAt = T0.AddSeconds(3) });
        run.Event(new ClosingDocumentDeleted
        {
            Key = "doc-1", MessageId = delete.IdempotencyKey, CorrelationId = "c", OccurredAt = T0.AddSeconds(4), AccountId = 7001, ExternalInvoiceId = "1001",
            WasPresent = true, SupersededBy = supersededBy,
        });
        run.Documents.Add(new SandboxExternalInvoice("1002", 1, 7001, "doc-1", "act", "Act 1 r2", "102.0", "EUR", "2026-10-01", "2026-10-31", "application/pdf", 10, T0, T0, 1));

        var violations = new ClosingDocumentChecks().Check(run.Index()).ToList();

        Assert.Equal(figures, violations.Any(v => v.Invariant == Invariants.Figures && v.Detail.StartsWith("the last success was a delete", StringComparison.Ordinal)));
        Assert.Equal(ordering, violations.Any(v => v.Invariant == Invariants.Ordering && v.Detail.Contains("was written after it", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("Act 1 r2 (conflicting)", "103.0", false)] // the other payload of the last success's version
    [InlineData("Act 1 r1", "101.0", true)] // an older version
    public void A_document_holds_any_payload_reported_sent_for_the_last_successs_version_and_nothing_else(string name, string total, bool violation)
    {
        // Seed 1242: the first r2 was republished under a new id and its create's event, delayed by a kill, arrived after the
        // update of another payload for r2 under a used id; ActivePlatform held that other payload.
        var run = new RunBuilder();
        var subject = ClosingDocumentScenarios.Subject(7001, "doc-1");
        var r1 = run.Message(Document(1), subject, Flow.ClosingDocuments);
        var r2 = run.Message(Document(2), subject, Flow.ClosingDocuments);
        var conflicting = run.Message(Document(2) with { Name = "Act 1 r2 (conflicting)", Amount = new Money(103, "EUR") }, subject, Flow.ClosingDocuments);
        run.Effect(EffectKinds.ExternalInvoiceCreated, "doc-1", ("id", "1001"), ("accountId", "7001"), ("name", "Act 1 r2"), ("total", "102.0"));
        run.Effect(EffectKinds.ExternalInvoiceUpdated, "doc-1", ("id", "1001"), ("accountId", "7001"), ("name", name), ("total", total));
        run.Event(Sent(r1, 1, ClosingDocumentWriteOutcome.Updated));
        run.Event(Sent(conflicting, 2, ClosingDocumentWriteOutcome.Updated));
        run.Event(Sent(r2, 2, ClosingDocumentWriteOutcome.Created) with { OccurredAt = T0.AddSeconds(5) });
        run.Documents.Add(new SandboxExternalInvoice("1001", 1, 7001, "doc-1", "act", name, total, "EUR", "2026-10-01", "2026-10-31", "application/pdf", 10, T0, T0, 3));

        var figures = new ClosingDocumentChecks().Check(run.Index()).Where(v => v.Invariant == Invariants.Figures).ToList();

        Assert.Equal(violation, figures.Count > 0);
    }

    [Fact]
    public void An_approval_whose_own_delivery_applied_it_before_the_invoice_moved_on_is_not_counted_twice()
    {
        // Seed 1: the approval reached ActivePlatform, recording it failed (PostgreSQL down) and it was dead-lettered; the
        // ERP completed the invoice meanwhile; the replayed approval is answered "already applied" (the invoice is past it).
        var run = new RunBuilder();
        var approve = run.Message(new ApproveInvoice { DocumentId = "ERP-INV-5", BillingDate = new DateOnly(2026, 10, 1), AccountId = 80005 }, "ERP-INV-5", Flow.Invoices);
        var complete = run.Message(new CompleteInvoice { DocumentId = "ERP-INV-5", BillingDate = new DateOnly(2026, 10, 1), AccountId = 80005 }, "ERP-INV-5", Flow.Invoices);
        run.Effect(EffectKinds.InvoiceApproved, "2053", ("documentId", "ERP-INV-5"), ("accountId", "80005"));
        run.Effect(EffectKinds.InvoiceCompleted, "2053", ("documentId", "ERP-INV-5"), ("accountId", "80005"));
        run.Event(InvoiceEvent(complete, alreadyApplied: false, completed: true, at: T0.AddSeconds(30)));
        run.Event(InvoiceEvent(approve, alreadyApplied: true, completed: false, at: T0.AddSeconds(90)));
        run.Invoices.Add(Invoice(approved: true, paymentStatus: "completed"));

        Assert.Empty(new InvoiceChecks().Check(run.Index()));
    }

    [Fact]
    public void An_approval_no_message_was_in_hand_for_is_still_an_effect_count_violation()
    {
        // The same, but the approval happened after the message had been answered "already applied": nothing explains it.
        var run = new RunBuilder();
        var approve = run.Message(new ApproveInvoice { DocumentId = "ERP-INV-5", BillingDate = new DateOnly(2026, 10, 1), AccountId = 80005 }, "ERP-INV-5", Flow.Invoices);
        var complete = run.Message(new CompleteInvoice { DocumentId = "ERP-INV-5", BillingDate = new DateOnly(2026, 10, 1), AccountId = 80005 }, "ERP-INV-5", Flow.Invoices);
        run.Effect(EffectKinds.InvoiceCompleted, "2053", ("documentId", "ERP-INV-5"), ("accountId", "80005"));
        run.Event(InvoiceEvent(complete, alreadyApplied: false, completed: true, at: T0.AddSeconds(30)));
        run.Event(InvoiceEvent(approve, alreadyApplied: true, completed: false, at: T0.AddSeconds(90)));
        run.Effect(EffectKinds.InvoiceApproved, "2053", T0.AddSeconds(120), ("documentId", "ERP-INV-5"), ("accountId", "80005"));
        run.Invoices.Add(Invoice(approved: true, paymentStatus: "completed"));

        var violation = Assert.Single(new InvoiceChecks().Check(run.Index()));
        Assert.Equal(Invariants.EffectCount, violation.Invariant);
        Assert.StartsWith("ActivePlatform approved the invoice 1 time(s); 0 success(es) say so", violation.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Resume_after_kill_is_measured_from_the_kill_to_the_next_answer_written_after_it_for_each_claimed_document()
    {
        var killedAt = T0.AddSeconds(10);
        var kill = new KillRecord(killedAt, "bridge-b", 42, [new HeldClaim("invoice:1", "ERP-INV-5", killedAt.AddSeconds(8)), new HeldClaim("invoice:1", "ERP-INV-9", killedAt.AddSeconds(9))]);
        var run = new RunBuilder();
        var approve = run.Message(new ApproveInvoice { DocumentId = "ERP-INV-5", BillingDate = new DateOnly(2026, 10, 1), AccountId = 80005 }, "ERP-INV-5", Flow.Invoices);
        var before = new ObservedEvent(T0.AddSeconds(5), "o1", InvoiceEvent(approve, alreadyApplied: false, completed: false, at: T0.AddSeconds(5)));
        var heldInOutbox = new ObservedEvent(killedAt.AddSeconds(3), "o3", InvoiceEvent(approve, alreadyApplied: false, completed: false, at: killedAt.AddSeconds(-2)));
        var after = new ObservedEvent(killedAt.AddSeconds(12.5), "o2", InvoiceEvent(approve, alreadyApplied: false, completed: true, at: killedAt.AddSeconds(12)));

        var resume = ResumeTimes.Measure([kill], [before, heldInOutbox, after]);

        Assert.Equal([TimeSpan.FromSeconds(12.5)], resume.Samples);
        Assert.Equal(1, resume.Unresumed);
        Assert.Equal("p50 12.5s max 12.5s (n=1, 1 never)", resume.ToString());
        Assert.Contains(resume.Lines, l => l.Contains("invoice:1/ERP-INV-5 lease left 8.0s: answered after 12.0s, received after 12.5s: InvoiceCompleted", StringComparison.Ordinal));
        Assert.Contains(resume.Lines, l => l.Contains("invoice:1/ERP-INV-9 lease left 9.0s: never answered again", StringComparison.Ordinal));
    }

    [Fact]
    public void A_rate_batch_claim_is_resumed_only_by_an_answer_for_the_same_reseller()
    {
        var killedAt = T0.AddSeconds(10);
        var kill = new KillRecord(killedAt, "bridge-b", 42, [new HeldClaim("currency-rates", "2", killedAt.AddSeconds(7))]);
        static ObservedEvent Rates(long reseller, double seconds, string id) => new(T0.AddSeconds(10 + seconds), id, new CurrencyRatesUpdated
        {
            Key = "rates-" + id, MessageId = "m-" + id, CorrelationId = "c", OccurredAt = T0.AddSeconds(10 + seconds), ResellerId = reseller,
            EffectiveAt = T0, Applied = [], Unchanged = [], Skipped = [], AlreadyApplied = false,
        });

        var resume = ResumeTimes.Measure([kill], [Rates(1, 2, "a"), Rates(2, 11, "b")]);

        Assert.Equal([TimeSpan.FromSeconds(11)], resume.Samples);
    }

    [Fact]
    public void A_payload_that_wins_a_shared_message_id_and_then_meets_its_top_up_key_applied_with_other_figures_is_answered_by_that_conflict()
    {
        // Long run, seed 7: #6109 (441, its own id) created topup-249; #6110 (442) took the message id #6108 (441) was also
        // published under; #6108 got "idempotency key already used", #6110 "top-up already created with other figures".
        var run = new RunBuilder();
        var original = run.Message(TopUp(441m), "topup-249", Flow.TopUps, Expectation.ValidOrConflict, "m005875");
        var other = run.Message(TopUp(442m), "topup-249", Flow.TopUps, Expectation.ValidOrConflict, "m005875");
        run.Event(TopUpConflict(original, "Idempotency key 'm005875' was already used by a RegisterPayment with a different payload; this message was not applied."));
        run.Event(TopUpConflict(other, "Top-up 'topup-249' was already created with other figures (account, total, comment or purpose); this message was not applied."));

        Assert.Empty(new OutcomeChecks().Check(run.Index()));
    }

    [Fact]
    public void Two_payloads_under_one_message_id_both_refused_because_the_key_is_taken_is_still_a_violation()
    {
        var run = new RunBuilder();
        var original = run.Message(TopUp(441m), "topup-249", Flow.TopUps, Expectation.ValidOrConflict, "m005875");
        var other = run.Message(TopUp(442m), "topup-249", Flow.TopUps, Expectation.ValidOrConflict, "m005875");
        run.Event(TopUpConflict(original, "Idempotency key 'm005875' was already used by a RegisterPayment with a different payload; this message was not applied."));
        run.Event(TopUpConflict(other, "Idempotency key 'm005875' was already used by a RegisterPayment with a different payload; this message was not applied."));

        var violation = Assert.Single(new OutcomeChecks().Check(run.Index()));
        Assert.Equal(Invariants.OneOutcome, violation.Invariant);
        Assert.StartsWith("2 payloads under one key, every answer an IdempotencyConflict", violation.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_message_whose_key_cannot_be_recorded_answered_on_each_delivery_is_the_known_limit_and_with_a_usable_key_a_violation()
    {
        var run = new RunBuilder();
        var unusable = run.Message(new UpdateCurrencyRates { Key = "ctl-67-\u007f-end", EffectiveAt = T0, Rates = [] }, "ctl-67-\u007f-end", Flow.ControlCharacterKeys, Expectation.ValidOrInvalid, "ctl-67-\u007f-end-message");
        var usable = run.Message(new UpdateCurrencyRates { Key = "rates-1", EffectiveAt = T0, Rates = [] }, "rates-1", Flow.CurrencyRates, Expectation.Invalid, "m000001");
        foreach (var message in new[] { unusable, unusable, usable, usable })
        {
            run.Event(new CurrencyRatesRejected
            {
                Key = message.Subject, MessageId = message.IdempotencyKey, CorrelationId = "c", OccurredAt = T0, MessageType = nameof(UpdateCurrencyRates), Reason = RejectionReason.InvalidMessage,
                Description = "The message is invalid and was not sent to ActivePlatform", ValidationErrors = [],
            });
        }

        var findings = new OutcomeChecks().Check(run.Index()).ToList();

        Assert.Equal(2, findings.Count);
        Assert.Contains(findings, f => f.Invariant == Invariants.KnownLimit && f.Messages.Contains(unusable));
        Assert.Contains(findings, f => f.Invariant == Invariants.OneOutcome && f.Messages.Contains(usable));
    }

    [Fact]
    public void The_door_carries_a_seeded_share_of_what_it_can_carry_and_nothing_else()
    {
        var generator = ScenarioGenerator.Plan(7, 600, new HashSet<Flow>());
        foreach (var payment in generator.World.Payments)
        {
            payment.Seeded = new SandboxPayment("1", 1, payment.AccountId, "000001", "100.0", "USD", payment.Status, false, null, null, [], []);
        }

        foreach (var invoice in generator.World.Invoices)
        {
            invoice.Seeded = new SandboxInvoice("2", 1, invoice.AccountId, invoice.BillingDate, invoice.BillingDate.AddMonths(1), "1.0", "postpay", "closed",
                "INV", "INV", false, null, "1", "waiting_for_payment", null, null, null);
        }

        var stream = generator.Emit().Stream;
        var routes = DoorRouting.Plan(7, 0.3, stream);
        var carried = stream.Where((_, i) => routes[i] != Route.Amqp).Select(p => p.Message).ToList();

        Assert.Equal(routes, DoorRouting.Plan(7, 0.3, stream));
        Assert.All(DoorRouting.Plan(7, 0, stream), r => Assert.Equal(Route.Amqp, r));
        Assert.InRange(carried.Count, stream.Count / 5, stream.Count * 2 / 5);
        Assert.Contains(routes, r => r == Route.DoorResent);
        Assert.All(carried, m => Assert.True(DoorRouting.CanCarry(m), m.ToString()));
        Assert.Contains(carried, m => m.AmqpMessageId is null);                 // the body's idempotencyKey alone
        Assert.Contains(carried, m => m.Expectation == Expectation.Invalid);   // JSON the door should refuse 400
        Assert.Contains(carried, m => m.Flow == Flow.ControlCharacterKeys);       // a control character in the body's key only
        Assert.DoesNotContain(stream, p => !OutcomeChecks.IsUsableKey(p.Message.IdempotencyKey) && DoorRouting.CanCarry(p.Message));
        Assert.DoesNotContain(stream, p => p.Message.Expectation == Expectation.Unreadable && DoorRouting.CanCarry(p.Message));
        Assert.DoesNotContain(stream, p => p.Message.AmqpMessageId is { } id && id != p.Message.IdempotencyKey && DoorRouting.CanCarry(p.Message));
    }

    [Fact]
    public void A_door_refusal_the_message_does_not_call_for_is_a_violation_and_one_it_calls_for_is_not()
    {
        var run = new RunBuilder();
        var valid = run.Message(new CancelPayment { PaymentId = "1" }, "1", Flow.PaymentStatus);
        var invalid = run.Message(new CancelPayment { PaymentId = "not-a-number" }, "bad-1", Flow.BadInput, Expectation.Invalid);
        var lone = run.Message(new CancelPayment { PaymentId = "3" }, "3", Flow.PaymentStatus);
        var owner = run.Message(TopUp(441m), "topup-249", Flow.TopUps, Expectation.ValidOrConflict, "m005875");
        var other = run.Message(TopUp(442m), "topup-249", Flow.TopUps, Expectation.ValidOrConflict, "m005875");
        var json = run.Message(new CancelPayment { PaymentId = "4" }, "4", Flow.PaymentStatus);
        run.Door(valid, 400, T0.AddSeconds(1), "The body is not a valid CancelPayment");
        run.Door(invalid, 400, T0.AddSeconds(1), "The body is not a valid CancelPayment");
        run.Door(lone, 409, T0.AddSeconds(1), "Idempotency-Key already used");
        run.Door(other, 409, T0.AddSeconds(1), "Idempotency-Key already used"); // the owner went out at T0: right
        run.Door(json, 415, T0.AddSeconds(1), "JSON only");

        var violations = new DoorChecks().Check(run.Index()).ToList();

        Assert.All(violations, v => Assert.Equal(Invariants.DoorRefusal, v.Invariant));
        Assert.Equal(3, violations.Count);
        Assert.Contains(violations, v => v.Messages.Contains(valid) && v.Detail.Contains("well-formed CancelPayment", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Messages.Contains(lone) && v.Detail.Contains("no other payload under its key was sent before", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Messages.Contains(json) && v.Detail.Contains("refused #", StringComparison.Ordinal) && v.Detail.Contains(" 415 ", StringComparison.Ordinal));
        Assert.DoesNotContain(violations, v => v.Messages.Contains(invalid) || v.Messages.Contains(owner));
    }

    [Fact]
    public void Two_payloads_under_one_key_both_accepted_by_the_door_and_a_202_that_never_arrives_are_violations()
    {
        var run = new RunBuilder();
        var owner = run.Message(TopUp(441m), "topup-249", Flow.TopUps, Expectation.ValidOrConflict, "m005875");
        var other = run.Message(TopUp(442m), "topup-249", Flow.TopUps, Expectation.ValidOrConflict, "m005875");
        var lost = run.Message(new CancelPayment { PaymentId = "5" }, "5", Flow.PaymentStatus);
        run.Door(owner, 202, T0.AddSeconds(1));
        run.Door(other, 202, T0.AddSeconds(2));
        run.Door(lost, 202, T0.AddSeconds(3));
        run.Event(TopUpRegistered(owner, T0.AddSeconds(4)));
        run.Event(TopUpConflict(other, "Idempotency key 'm005875' was already used by a RegisterPayment with a different payload; this message was not applied."));
        run.Status(owner, DoorStatuses.Applied, TopUpRegistered(owner, T0.AddSeconds(4)));
        run.Status(lost, DoorStatuses.Accepted, null);

        var violations = new DoorChecks().Check(run.Index()).ToList();

        Assert.Equal(2, violations.Count);
        Assert.Contains(violations, v => v.Invariant == Invariants.DoorRefusal && v.Detail.Contains("accepted 2 different payloads under one key", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Invariant == Invariants.DoorAccepted && v.Messages.SequenceEqual([lost]));
    }

    [Fact]
    public void A_door_status_that_disagrees_with_the_history_after_quiescence_is_a_violation()
    {
        var run = new RunBuilder();
        var applied = run.Message(new CancelPayment { PaymentId = "1" }, "1", Flow.PaymentStatus);
        var stuck = run.Message(new CancelPayment { PaymentId = "2" }, "2", Flow.PaymentStatus);
        var foreign = run.Message(new CancelPayment { PaymentId = "3" }, "3", Flow.PaymentStatus);
        var lettered = run.Message(new CancelPayment { PaymentId = "4" }, "4", Flow.PaymentStatus);
        var wrongLetter = run.Message(new CancelPayment { PaymentId = "6" }, "6", Flow.PaymentStatus);
        foreach (var message in new[] { applied, stuck, foreign, lettered, wrongLetter })
        {
            run.Door(message, 202, T0.AddSeconds(1));
        }

        run.Event(Cancelled(applied, "1"));
        run.Event(Cancelled(stuck, "2"));
        run.Event(Cancelled(foreign, "3"));
        var letter = run.DeadLetter(lettered);
        run.DeadLetter(wrongLetter);
        run.Status(applied, DoorStatuses.Applied, Cancelled(applied, "1"));
        run.Status(stuck, DoorStatuses.InProgress, null);
        run.Status(foreign, DoorStatuses.Applied, Cancelled(applied, "1"));
        run.Status(lettered, DoorStatuses.DeadLettered, null, letter.Id);
        run.Status(wrongLetter, DoorStatuses.DeadLettered, null, letter.Id);

        var violations = new DoorChecks().Check(run.Index()).ToList();

        Assert.All(violations, v => Assert.Equal(Invariants.DoorStatus, v.Invariant));
        Assert.DoesNotContain(violations, v => v.Messages.Contains(applied) || v.Messages.Contains(lettered));
        Assert.Contains(violations, v => v.Messages.Contains(stuck) && v.Detail.Contains("door status in-progress", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Messages.Contains(foreign) && v.Detail.Contains("of another message id", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Messages.Contains(wrongLetter) && v.Detail.Contains("dead-lettered with dead letter", StringComparison.Ordinal));
    }

    [Fact]
    public void A_key_owner_shown_applied_with_the_other_payloads_key_conflict_as_its_result_is_a_violation_and_conflict_is_not()
    {
        // The door's status reads the latest result event under the key: after the owner's success, the other payload's
        // "key already used" rejection is the latest, and it is not the owner's result.
        var run = new RunBuilder();
        var owner = run.Message(TopUp(441m), "topup-249", Flow.TopUps, Expectation.ValidOrConflict, "m005875");
        var other = run.Message(TopUp(442m), "topup-249", Flow.TopUps, Expectation.ValidOrConflict, "m005875");
        run.Door(owner, 202, T0.AddSeconds(1));
        var success = TopUpRegistered(owner, T0.AddSeconds(4));
        var refusal = TopUpConflict(other, "Idempotency key 'm005875' was already used by a RegisterPayment with a different payload; this message was not applied.") with { OccurredAt = T0.AddSeconds(6) };
        run.Event(success);
        run.Event(refusal);

        run.Status(owner, DoorStatuses.Applied, refusal);
        var wrong = Assert.Single(new DoorChecks().Check(run.Index()));
        Assert.Equal(Invariants.DoorStatus, wrong.Invariant);
        Assert.Contains("the history says applied with its PaymentRegistered", wrong.Detail, StringComparison.Ordinal);

        run.Status(owner, DoorStatuses.Applied, success);
        Assert.Empty(new DoorChecks().Check(run.Index()));

        run.Status(owner, DoorStatuses.Conflict, null);
        Assert.Empty(new DoorChecks().Check(run.Index()));
    }

    [Fact]
    public void A_violation_shows_the_door_requests_and_the_status_the_door_gave()
    {
        var run = new RunBuilder();
        var message = run.Message(new CancelPayment { PaymentId = "2" }, "2", Flow.PaymentStatus);
        run.Door(message, null, T0.AddSeconds(1));
        run.Door(message, 202, T0.AddSeconds(2), "status accepted");
        run.Event(Cancelled(message, "2"));
        run.Status(message, DoorStatuses.InProgress, null);
        var index = run.Index();

        var text = new HistoryRenderer(index).Render(Assert.Single(new DoorChecks().Check(index)));

        Assert.Contains("POST to bridge-a → no answer", text, StringComparison.Ordinal);
        Assert.Contains("POST to bridge-a → 202 status accepted", text, StringComparison.Ordinal);
        Assert.Contains("after quiescence: door status in-progress (CancelPayment), no result", text, StringComparison.Ordinal);
    }

    private static PaymentRegistered TopUpRegistered(PlannedMessage message, DateTimeOffset at) => new()
    {
        Key = "topup-249", MessageId = message.IdempotencyKey, CorrelationId = "c", OccurredAt = at, ResellerId = 1, PaymentId = "12001", AccountId = 685,
        Total = 441m, AlreadyApplied = false,
    };

    private static RegisterPayment TopUp(decimal total) => new() { Key = "topup-249", AccountId = 685, Total = total, Comment = "Top-up 249 for account 685" };

    private static PaymentRejected TopUpConflict(PlannedMessage message, string description) => new()
    {
        Key = "topup-249", MessageId = message.IdempotencyKey, CorrelationId = "c", OccurredAt = T0, MessageType = nameof(RegisterPayment),
        Reason = RejectionReason.IdempotencyConflict, Description = description, ValidationErrors = [],
    };

    private static IResultEvent InvoiceEvent(PlannedMessage message, bool alreadyApplied, bool completed, DateTimeOffset at) => completed
        ? new InvoiceCompleted
        {
            Key = "ERP-INV-5", MessageId = message.IdempotencyKey, CorrelationId = "c", OccurredAt = at, ResellerId = 1, InvoiceId = "2053", AccountId = 80005,
            BillingDate = new DateOnly(2026, 10, 1), PaymentId = "12208", AlreadyApplied = alreadyApplied,
        }
        : new InvoiceApproved
        {
            Key = "ERP-INV-5", MessageId = message.IdempotencyKey, CorrelationId = "c", OccurredAt = at, ResellerId = 1, InvoiceId = "2053", AccountId = 80005,
            BillingDate = new DateOnly(2026, 10, 1), AlreadyApplied = alreadyApplied,
        };

    private static SandboxInvoice Invoice(bool approved, string paymentStatus) => new(
        "2053", 1, 80005, new DateOnly(2026, 10, 1), new DateOnly(2026, 10, 31), "105.0", "postpay", "closed", "ERP-INV-5", "INV-2053", approved, null, "12208", paymentStatus, null, null, null);

    private static CompletePayment Line(string transaction) =>
        new() { Mode = PaymentCompletionMode.ByPaymentNumber, PaymentNumber = "002100", PaymentMethodId = 2, Amount = transaction == "stmt-1" ? 40m : 30m, ExternalTransactionId = transaction };

    private static CompletePayment Line(string transaction, decimal amount) =>
        new() { Mode = PaymentCompletionMode.ByPaymentNumber, PaymentNumber = "003012", PaymentMethodId = 2, Amount = amount, ExternalTransactionId = transaction };

    private static PaymentRejected Refused(PlannedMessage message, string description) => new()
    {
        Key = "003012", MessageId = message.IdempotencyKey, CorrelationId = "c", OccurredAt = T0, MessageType = nameof(CompletePayment),
        Reason = RejectionReason.IdempotencyConflict, Description = description,
    };

    private static SendClosingDocument Document(int revision) => new()
    {
        AccountId = 7001, Key = "doc-1", Type = ClosingDocumentType.Act, Name = $"Act 1 r{revision}", Amount = new Money(100 + revision, "EUR"),
        StartDate = new DateOnly(2026, 10, 1), EndDate = new DateOnly(2026, 10, 31), File = new DocumentFile { ContentType = "application/pdf", ContentBase64 = "JVBERg==" },
        Revision = revision,
    };

    private static PaymentCancelled Cancelled(PlannedMessage message, string id) => new()
    {
        Key = id, MessageId = message.IdempotencyKey, CorrelationId = "c", OccurredAt = T0, ResellerId = 1, PaymentId = id, PaymentStatus = "cancelled", AlreadyApplied = false,
    };

    private static PaymentCompleted Completed(PlannedMessage message, string transaction, decimal amount, string correction) => new()
    {
        Key = "002100", MessageId = message.IdempotencyKey, CorrelationId = "c", OccurredAt = T0, ResellerId = 1, Mode = PaymentCompletionMode.ByPaymentNumber,
        Outcome = PaymentCompletionOutcome.PartiallyPaid, PaymentId = "2100", PaymentNumber = "002100", PaymentStatus = "waiting_for_payment", Amount = amount,
        ExternalTransactionId = transaction, CorrectionId = correction, AlreadyApplied = false,
    };

    private static ClosingDocumentSent Sent(PlannedMessage message, int revision, ClosingDocumentWriteOutcome outcome) => new()
    {
        Key = "doc-1", MessageId = message.IdempotencyKey, CorrelationId = "c", OccurredAt = T0.AddSeconds(revision), ResellerId = 1, AccountId = 7001,
        ExternalInvoiceId = "1001", Outcome = outcome, Revision = revision,
    };

    /// <summary>A run put together by hand: messages, the events received, the sandbox's ledger and final state.</summary>
    private sealed class RunBuilder
    {
        private readonly GenerationContext _context = new(1);
        private readonly List<PlannedMessage> _messages = [];
        private readonly History _history = new();
        private readonly List<SandboxEffect> _effects = [];
        private readonly List<DeadLetterSummary> _deadLetters = [];
        private readonly Dictionary<string, DoorStatusReading> _doorStatuses = new(StringComparer.Ordinal);
        private int _events;

        public List<SandboxPayment> Payments { get; } = [];

        public List<SandboxExternalInvoice> Documents { get; } = [];

        public List<SandboxInvoice> Invoices { get; } = [];

        public PlannedMessage Message(object payload, string subject, Flow flow, Expectation expectation = Expectation.Valid, string? idempotencyKey = null)
        {
            var message = _context.Message(flow, payload, subject, "test message", expectation, idempotencyKey);
            _messages.Add(message);
            _history.Published(new PublicationRecord(message, 0, T0, Confirmed: true, null));
            return message;
        }

        /// <summary>A request to the door for <paramref name="message"/> answered <paramref name="status"/> (null: no answer) at <paramref name="at"/>.</summary>
        public void Door(PlannedMessage message, int? status, DateTimeOffset at, string? answer = null) =>
            _history.Published(new PublicationRecord(message, 0, at, status == 202, status == 202 ? null : answer,
                new DoorAttempt("bridge-a", at.AddMilliseconds(-5), at, status, answer)));

        /// <summary>What the door says of <paramref name="message"/> after quiescence.</summary>
        public void Status(PlannedMessage message, string status, IResultEvent? result, Guid? deadLetter = null) =>
            _doorStatuses[message.IdempotencyKey] = new DoorStatusReading(message.IdempotencyKey, 200, status, message.MessageType, result?.GetType().Name,
                result?.MessageId, result?.OccurredAt, result is null ? null : "{}", deadLetter, deadLetter is null ? null : "Pending");

        public DeadLetterSummary DeadLetter(PlannedMessage message)
        {
            var letter = new DeadLetterSummary(Guid.NewGuid(), "q", message.MessageType, message.IdempotencyKey, message.Subject, "TimeoutException", "timed out", 3, 1, T0, T0,
                "Pending", null, 0);
            _deadLetters.Add(letter);
            return letter;
        }

        public void Event(IResultEvent e) => _history.Received(new ObservedEvent(T0.AddSeconds(++_events), Guid.NewGuid().ToString(), e));

        public void Effect(string kind, string subject, params (string Name, string? Value)[] details) =>
            Effect(kind, subject, T0.AddMilliseconds(_effects.Count), details);

        public void Effect(string kind, string subject, DateTimeOffset at, params (string Name, string? Value)[] details) =>
            _effects.Add(new SandboxEffect(_effects.Count + 1, at, 1, kind, subject, details.ToDictionary(d => d.Name, d => d.Value)));

        public MessageIndex Index() => new(new RunRecord(
            1,
            new ChaosPlan(_messages, [.. _messages.Select(m => new Publication(m, 0))]),
            _history,
            _history.Events,
            _deadLetters,
            _effects,
            [],
            new SandboxState(Documents, [], Payments, [], [], [], Invoices),
            new LeftOvers(0, [], new Dictionary<string, uint>()),
            0,
            _doorStatuses));
    }
}
