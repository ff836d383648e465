using Bridge.Contracts;
using Bridge.Host.Features.Invoices;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// An invoice call journals nothing first. When a retry of the message succeeded after an attempt that went unanswered (a
/// gateway's 503 for a call the platform then carries out), that attempt may still land: the invoice's next message must not
/// be sent before it can no longer land, or the late call undoes it (chaos seed 1242: a late approval after a revoke).
/// </summary>
[Collection(PipelineCollection2.Name)]
public sealed class InvoiceLateLandingTests(PipelineFixture fixture)
{
    [Fact]
    public async Task A_revoke_waits_until_an_unanswered_attempt_of_the_approval_it_follows_can_no_longer_land()
    {
        var prefix = $"bridge-ill-{Guid.NewGuid():N}"[..22];
        var documentId = $"NS-{Guid.NewGuid():N}"[..20];
        var invoice = await fixture.Sandbox.Control.SeedInvoiceAsync(
            new SandboxInvoiceSeed { AccountId = 94_000 + Random.Shared.Next(1_000), BillingDate = new DateOnly(2026, 10, 1), Total = 120m },
            CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                // In-flight window 15 + 3 = 18 s: the revoke waits that long after the approval.
                ["ActivePlatform:TotalTimeout"] = "00:00:15",
                ["ActivePlatform:AttemptTimeout"] = "00:00:03",
            });

        try
        {
            // The approval's first call is answered 503 at once and held by the sandbox: the platform has not carried it out
            // yet. The message's retry approves.
            await fixture.Sandbox.Control.SetFaultAsync(
                new FaultRule { Method = "POST", PathContains = $"/invoices/{invoice.Id}/approve", LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000, LostAnswerStatus = 503 },
                CancellationToken.None);
            var approve = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{ApproveInvoiceConsumer.Queue}", new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id }, approve);
            await fixture.Events.WaitForAsync<InvoiceApproved>(e => e.MessageId == approve, TimeSpan.FromSeconds(120));
            await PipelineTestData.EventuallyAsync(
                () => fixture.Sandbox.Control.GetPendingLateLandingsAsync(CancellationToken.None), pending => pending == 1, TimeSpan.FromSeconds(60));
            var holder = await fixture.ClaimedByAsync("invoice:1", documentId);

            // The ERP revokes: it is either sent at once, or waits behind the invoice's held claim.
            var revoke = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{RevokeInvoiceApprovalConsumer.Queue}", new { documentId, billingDate = "2026-10-01" }, revoke);
            var revoked = fixture.Events.WaitForAsync<InvoiceApprovalRevoked>(e => e.MessageId == revoke, TimeSpan.FromSeconds(120));
            var waiting = fixture.WaitingBehindAsync(revoke, "invoice:1", documentId, holder);
            await Task.WhenAny(revoked, waiting).WaitAsync(TimeSpan.FromSeconds(120));

            // The held approval lands now, within its window.
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
            await fixture.Sandbox.Control.AwaitLateLandingsAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
            var landed = Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", $"/invoices/{invoice.Id}/approve", null, CancellationToken.None), c => c.Fault == "landed-late");
            Assert.True(landed.Status is >= 200 and < 300, $"the held approval landed with {landed.Status}");

            // ActivePlatform holds what Bridge reported last: revoked.
            await revoked;
            var state = Assert.Single(await fixture.Sandbox.Control.GetInvoicesAsync(CancellationToken.None), i => i.Id == invoice.Id);
            Assert.False(state.Approved, "the approval's late call landed after the revoke");
            Assert.NotNull(holder);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Found by review (helper-58): between two attempts of one message nothing held the invoice. A revoke answered 503 at once
    /// (carried out later) gave the claim back; the approval after it found the state "approved" and answered "already
    /// approved" without a call; the revoke then landed, and ActivePlatform held the invoice unapproved while Bridge's record
    /// (and its last answer) said approved. Now the invoice stays claimed until the revoke can no longer land, and its state in
    /// doubt, so the approval waits and then sends its call.
    /// </summary>
    [Fact]
    public Task An_approval_after_a_revoke_whose_answer_was_lost_waits_for_it_and_leaves_Bridge_and_ActivePlatform_agreeing()
        => ApprovalAfterUnansweredRevokeAsync(retryInterval: "00:00:30", refuseRetry: false);

    /// <summary>
    /// Found by review (helper-60): the revoke's own retry took the held claim back, was refused (409) — proof only that
    /// this attempt did nothing — and gave the claim back, reported refused; the approval then ran before the first revoke
    /// landed. Now the retry keeps the claim and the state in doubt, and is kept for an operator, not reported refused.
    /// </summary>
    [Fact]
    public Task A_retry_refused_after_an_unanswered_revoke_keeps_the_invoice_held_and_is_not_reported_refused()
        => ApprovalAfterUnansweredRevokeAsync(retryInterval: "00:00:01", refuseRetry: true);

    /// <summary>
    /// Chaos seed 1252: a revoke answered 502 by a gateway was carried out; its message, out of retries, was dead-lettered; the
    /// ERP's next approval waited until the revoke could no longer land and approved; then an operator replayed the revoke's
    /// dead letter, and it was sent again — the one message revoked twice, undoing the later approval (ActivePlatform
    /// unapproved, the ERP's last word an approval). A message whose earlier call may have landed is not sent again once
    /// another message has written the invoice since: it is kept for an operator, saying what to check.
    /// </summary>
    [Fact]
    public async Task A_replayed_revoke_whose_unanswered_call_may_have_landed_is_not_sent_again_over_a_later_approval()
    {
        var prefix = $"bridge-ilx-{Guid.NewGuid():N}"[..22];
        var documentId = $"NX-{Guid.NewGuid():N}"[..20];
        var invoice = await fixture.Sandbox.Control.SeedInvoiceAsync(
            new SandboxInvoiceSeed { AccountId = 96_000 + Random.Shared.Next(1_000), BillingDate = new DateOnly(2026, 10, 1), Total = 140m },
            CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                // In-flight window 4 + 2 = 6 s; no retries: the revoke's 502 dead-letters it at once.
                ["ActivePlatform:TotalTimeout"] = "00:00:04",
                ["ActivePlatform:AttemptTimeout"] = "00:00:02",
                ["Bridge:Messaging:RetryLimit"] = "0",
            });

        try
        {
            var approve = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{ApproveInvoiceConsumer.Queue}", new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id }, approve);
            await fixture.Events.WaitForAsync<InvoiceApproved>(e => e.MessageId == approve, TimeSpan.FromSeconds(120));

            // The revoke is answered 502 at once and held by the sandbox; its message is dead-lettered. Then the revoke lands.
            await fixture.Sandbox.Control.SetFaultAsync(
                new FaultRule { Method = "POST", PathContains = $"/invoices/{invoice.Id}/revoke", LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000, LostAnswerStatus = 502 },
                CancellationToken.None);
            var revoke = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{RevokeInvoiceApprovalConsumer.Queue}", new { documentId, billingDate = "2026-10-01" }, revoke);
            var letter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == revoke, TimeSpan.FromSeconds(120));
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
            await fixture.Sandbox.Control.AwaitLateLandingsAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            Assert.False(Assert.Single(await fixture.Sandbox.Control.GetInvoicesAsync(CancellationToken.None), i => i.Id == invoice.Id).Approved);

            // The ERP approves again: it waits until the revoke can no longer land, then approves.
            var again = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{ApproveInvoiceConsumer.Queue}", new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id }, again);
            var approvedAgain = await fixture.Events.WaitForAsync<InvoiceApproved>(e => e.MessageId == again, TimeSpan.FromSeconds(180));
            Assert.False(approvedAgain.AlreadyApplied);

            // An operator replays the revoke's dead letter (its reason: a 502). It must not revoke a second time.
            var replayed = await bridge.Get<Bridge.Host.DeadLetters.Replay.DeadLetterOperations>().ReplayAsync(letter.DeadLetterId, "tester", null, CancellationToken.None);
            Assert.Equal(Bridge.Host.DeadLetters.Replay.DeadLetterActionOutcome.Done, replayed.Outcome);
            var answer = await Task.WhenAny(
                fixture.Events.WaitForAsync<InvoiceApprovalRevoked>(e => e.MessageId == revoke, TimeSpan.FromSeconds(120)).ContinueWith(t => t.IsCompletedSuccessfully ? "revoked again" : "no answer", TaskScheduler.Default),
                fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == revoke && e.FailureCount == 2, TimeSpan.FromSeconds(120)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result.Reason : "no answer", TaskScheduler.Default));
            Assert.Contains("may have been carried out", await answer, StringComparison.Ordinal);

            Assert.DoesNotContain(fixture.Events.EventsFor(documentId), e => e is InvoiceApprovalRevoked);
            var revokes = await fixture.Sandbox.Control.GetCallsAsync("POST", $"/invoices/{invoice.Id}/revoke", null, CancellationToken.None);
            Assert.Single(revokes, c => c.Fault == "answered-before-landing");
            Assert.Single(revokes, c => c.Status is >= 200 and < 300);
            Assert.True(Assert.Single(await fixture.Sandbox.Control.GetInvoicesAsync(CancellationToken.None), i => i.Id == invoice.Id).Approved, "the replayed revoke undid the later approval");
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
        }
    }

    private async Task ApprovalAfterUnansweredRevokeAsync(string retryInterval, bool refuseRetry)
    {
        var prefix = $"bridge-ilr-{Guid.NewGuid():N}"[..22];
        var documentId = $"NR-{Guid.NewGuid():N}"[..20];
        var invoice = await fixture.Sandbox.Control.SeedInvoiceAsync(
            new SandboxInvoiceSeed { AccountId = 95_000 + Random.Shared.Next(1_000), BillingDate = new DateOnly(2026, 10, 1), Total = 130m },
            CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                // In-flight window 6 + 2 = 8 s. With a retry 30 s after the revoke's failure, the approval runs in between;
                // with one after 1 s, the revoke's retry runs first.
                ["ActivePlatform:TotalTimeout"] = "00:00:06",
                ["ActivePlatform:AttemptTimeout"] = "00:00:02",
                ["Bridge:Messaging:RetryMinInterval"] = retryInterval,
                ["Bridge:Messaging:RetryMaxInterval"] = retryInterval,
            });

        try
        {
            var approve = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{ApproveInvoiceConsumer.Queue}", new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id }, approve);
            await fixture.Events.WaitForAsync<InvoiceApproved>(e => e.MessageId == approve, TimeSpan.FromSeconds(120));

            // The revoke's call is answered 503 at once and held by the sandbox: the platform has not carried it out yet.
            await fixture.Sandbox.Control.SetFaultAsync(
                refuseRetry
                    ? new FaultRule { Method = "POST", PathContains = $"/invoices/{invoice.Id}/revoke", LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000, LostAnswerStatus = 503, FailNext = 1, ErrorStatus = 409 }
                    : new FaultRule { Method = "POST", PathContains = $"/invoices/{invoice.Id}/revoke", LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000, LostAnswerStatus = 503 },
                CancellationToken.None);
            var revoke = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{RevokeInvoiceApprovalConsumer.Queue}", new { documentId, billingDate = "2026-10-01" }, revoke);
            await PipelineTestData.EventuallyAsync(
                () => fixture.Sandbox.Control.GetPendingLateLandingsAsync(CancellationToken.None), pending => pending == 1, TimeSpan.FromSeconds(60));
            // The revoke's failure keeps the invoice claimed for the revoke (before, it gave the claim back).
            var holder = Bridge.Host.Idempotency.IdempotentExecutor.MessageHoldOwner(revoke);
            await PipelineTestData.EventuallyAsync(() => fixture.ClaimedByAsync("invoice:1", documentId), claimed => claimed == holder, TimeSpan.FromSeconds(60));

            // The ERP approves again: answered at once (before, "already approved", with no call), or waiting behind the claim.
            var again = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{ApproveInvoiceConsumer.Queue}", new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id }, again);
            var approvedAgain = fixture.Events.WaitForAsync<InvoiceApproved>(e => e.MessageId == again, TimeSpan.FromSeconds(180));
            var waiting = fixture.WaitingBehindAsync(again, "invoice:1", documentId, holder);
            await Task.WhenAny(approvedAgain, waiting).WaitAsync(TimeSpan.FromSeconds(120));
            Assert.False(approvedAgain.IsCompleted, "the approval was answered while the revoke before it could still land");

            // The revoke lands now, within its window.
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
            await fixture.Sandbox.Control.AwaitLateLandingsAsync(TimeSpan.FromSeconds(60), CancellationToken.None);

            // Both messages end (the revoke revoked, or kept for an operator when its repeat cannot be told from its
            // landing), and ActivePlatform holds what Bridge records.
            await approvedAgain;
            var revokeEnded = await Task.WhenAny(
                fixture.Events.WaitForAsync<InvoiceApprovalRevoked>(e => e.MessageId == revoke, TimeSpan.FromSeconds(180)).ContinueWith(t => t.IsCompletedSuccessfully ? "revoked" : "no answer", TaskScheduler.Default),
                fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == revoke, TimeSpan.FromSeconds(180)).ContinueWith(t => t.IsCompletedSuccessfully ? "dead-lettered" : "no answer", TaskScheduler.Default));
            Assert.Contains(await revokeEnded, new[] { "revoked", "dead-lettered" });
            Assert.DoesNotContain(fixture.Events.EventsFor(documentId), e => e is InvoiceRejected);
            var recorded = await fixture.AppliedStateAsync("invoice:1", documentId);
            var held = Assert.Single(await fixture.Sandbox.Control.GetInvoicesAsync(CancellationToken.None), i => i.Id == invoice.Id);
            Assert.Equal(recorded == "approved", held.Approved);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
        }
    }
}
