using Bridge.Contracts;
using Bridge.Demo;
using Bridge.Host.Features.Invoices;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// ERP-managed postpaid invoices end to end. The natural key is the ERP's document id with the operation: whatever the
/// message id, an approval, a completion or a revoke already in place is not sent to ActivePlatform again.
/// </summary>
[Collection(PipelineCollection3.Name)]
public sealed class InvoicePipelineTests(PipelineFixture fixture)
{
    private static readonly DateOnly October = new(2026, 10, 1);
    private static int _nextAccount = 80_000;

    private string ApproveQueue => fixture.Queue(ApproveInvoiceConsumer.Queue);

    private string CompleteQueue => fixture.Queue(CompleteInvoiceConsumer.Queue);

    private string RevokeQueue => fixture.Queue(RevokeInvoiceApprovalConsumer.Queue);

    private static string NewDocumentId() => $"NS-{Guid.NewGuid():N}"[..20];

    private static string NewMessageId() => NewId.NextGuid().ToString("D");

    private Task<SandboxInvoice> SeedAsync(string paymentStatus = "waiting_for_payment")
        => fixture.Sandbox.Control.SeedInvoiceAsync(
            new SandboxInvoiceSeed { AccountId = Interlocked.Increment(ref _nextAccount), BillingDate = October, Total = 987.65m, PaymentStatus = paymentStatus },
            CancellationToken.None);

    private async Task<SandboxInvoice> StateAsync(string id) => Assert.Single(await fixture.Sandbox.Control.GetInvoicesAsync(CancellationToken.None), i => i.Id == id);

    private async Task<List<SandboxCall>> CallsAsync(string pathContains)
        => [.. await fixture.Sandbox.Control.GetCallsAsync("POST", pathContains, null, CancellationToken.None)];

    private static object Approve(string documentId, SandboxInvoice invoice) => new
    {
        documentId,
        billingDate = "2026-10-01",
        accountId = invoice.AccountId,
        externalAmount = new { total = 990.10m, currency = "EUR" },
        dueDate = "2026-11-15",
    };

    private async Task<TEvent> PublishAndAwaitAsync<TEvent>(string queue, object body, string documentId)
        where TEvent : class, IResultEvent
    {
        var messageId = NewMessageId();
        await fixture.Erp.PublishJsonAsync(queue, body, messageId);
        return await fixture.Events.WaitForAsync<TEvent>(e => e.Key == documentId && e.MessageId == messageId);
    }

    [Fact]
    public async Task An_approval_for_a_reseller_the_token_does_not_reach_answered_404_is_kept_as_a_dead_letter_not_rejected()
    {
        // ActivePlatform documents 404 for an unknown invoice, and may answer 404 for a reseller outside the token's subtree
        // too (undocumented). Only the first is the message's own refusal; the second is Bridge's configuration.
        var invoice = await fixture.Sandbox.Control.SeedInvoiceAsync(
            new SandboxInvoiceSeed { ResellerId = 10, AccountId = 1_000_000 + Interlocked.Increment(ref _nextAccount), BillingDate = October, Total = 987.65m },
            CancellationToken.None);
        var documentId = NewDocumentId();
        var messageId = NewMessageId();
        await fixture.Sandbox.Control.SetOutOfScopeStatusAsync(404, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(
                ApproveQueue,
                new { documentId, billingDate = "2026-10-01", accountId = invoice.AccountId, resellerId = 10 },
                messageId);

            var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId, TimeSpan.FromSeconds(120));
            var kept = Assert.IsType<ErpMessageDeadLettered>(answer);
            Assert.Contains("Reseller 10 is not reachable", kept.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain(await CallsAsync($"/accounts/{invoice.AccountId}/approve_invoices"), c => c.Status is >= 200 and < 300);
        }
        finally
        {
            await fixture.Sandbox.Control.SetOutOfScopeStatusAsync(403, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_revoke_whose_answer_was_lost_is_not_reported_as_refused()
    {
        var invoice = await SeedAsync();
        var documentId = NewDocumentId();
        await PublishAndAwaitAsync<InvoiceApproved>(ApproveQueue, Approve(documentId, invoice), documentId);
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/invoices/{invoice.Id}/revoke", LoseAnswerNext = 1 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(RevokeQueue, new { documentId, billingDate = "2026-10-01" }, NewMessageId());

            var deadLettered = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.Key == documentId);
            Assert.Contains("discard this message", deadLettered.Reason, StringComparison.Ordinal);
            Assert.False((await StateAsync(invoice.Id)).Approved);
            Assert.DoesNotContain(fixture.Events.EventsFor(documentId), e => e is InvoiceRejected);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task ApproveInvoice_by_account_then_CompleteInvoice_by_id_approve_and_complete_the_invoice()
    {
        var invoice = await SeedAsync();
        var documentId = NewDocumentId();

        var approved = await PublishAndAwaitAsync<InvoiceApproved>(ApproveQueue, Approve(documentId, invoice), documentId);
        Assert.Equal(invoice.Id, approved.InvoiceId);
        Assert.Equal(invoice.AccountId, approved.AccountId);
        Assert.False(approved.AlreadyApplied);
        var state = await StateAsync(invoice.Id);
        Assert.True(state.Approved);
        Assert.Equal(documentId, state.DocumentId);
        Assert.Equal(new DateOnly(2026, 11, 15), state.PaymentDueDate);
        Assert.Equal("990.1", state.ExternalTotal);

        var completed = await PublishAndAwaitAsync<InvoiceCompleted>(CompleteQueue, new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id }, documentId);
        Assert.Equal(invoice.PaymentId, completed.PaymentId);
        Assert.False(completed.AlreadyApplied);
        Assert.Equal("completed", (await StateAsync(invoice.Id)).PaymentStatus);
    }

    [Fact]
    public async Task The_same_ApproveInvoice_delivered_three_times_approves_once_with_one_event()
    {
        var invoice = await SeedAsync();
        var documentId = NewDocumentId();
        var messageId = NewId.NextGuid();
        var watcher = new ConsumeWatcher();
        using var observer = fixture.Bridge.Get<IBus>().ConnectConsumeObserver(watcher);

        var body = Approve(documentId, invoice);
        await Task.WhenAll(
            fixture.Erp.PublishJsonAsync(ApproveQueue, body, messageId.ToString("D")),
            fixture.Erp.PublishJsonAsync(ApproveQueue, body, messageId.ToString("D")),
            fixture.Erp.PublishJsonAsync(ApproveQueue, body, messageId.ToString("D")));

        await fixture.Events.WaitForAsync<InvoiceApproved>(documentId);
        await watcher.WhenConsumed(messageId, times: 3, CancellationToken.None);

        Assert.Single(await CallsAsync($"/accounts/{invoice.AccountId}/approve_invoices"));
        Assert.Single(fixture.Events.EventsFor(documentId));
    }

    [Fact]
    public async Task Approvals_and_completions_republished_under_new_message_ids_reach_ActivePlatform_once_and_a_revoke_reopens_approval()
    {
        var invoice = await SeedAsync();
        var documentId = NewDocumentId();

        var first = await PublishAndAwaitAsync<InvoiceApproved>(ApproveQueue, Approve(documentId, invoice), documentId);
        var again = await PublishAndAwaitAsync<InvoiceApproved>(ApproveQueue, Approve(documentId, invoice), documentId);
        Assert.False(first.AlreadyApplied);
        Assert.True(again.AlreadyApplied);
        Assert.Equal(first.InvoiceId, again.InvoiceId);
        Assert.Single(await CallsAsync($"/accounts/{invoice.AccountId}/approve_invoices"));

        // Revoke by document id alone: Bridge recorded the invoice id at approval (ActivePlatform revokes by id only).
        var revoked = await PublishAndAwaitAsync<InvoiceApprovalRevoked>(RevokeQueue, new { documentId, billingDate = "2026-10-01" }, documentId);
        Assert.Equal(invoice.Id, revoked.InvoiceId);
        Assert.False((await StateAsync(invoice.Id)).Approved);
        var revokedAgain = await PublishAndAwaitAsync<InvoiceApprovalRevoked>(RevokeQueue, new { documentId, billingDate = "2026-10-01" }, documentId);
        Assert.True(revokedAgain.AlreadyApplied);
        Assert.Single(await CallsAsync($"/invoices/{invoice.Id}/revoke"));

        // Approve after revoke is a new effect, not a repeat.
        var reapproved = await PublishAndAwaitAsync<InvoiceApproved>(ApproveQueue, Approve(documentId, invoice), documentId);
        Assert.False(reapproved.AlreadyApplied);
        Assert.Equal(2, (await CallsAsync($"/accounts/{invoice.AccountId}/approve_invoices")).Count);

        var completed = await PublishAndAwaitAsync<InvoiceCompleted>(CompleteQueue, new { documentId, billingDate = "2026-10-01", accountId = invoice.AccountId }, documentId);
        var completedAgain = await PublishAndAwaitAsync<InvoiceCompleted>(CompleteQueue, new { documentId, billingDate = "2026-10-01", accountId = invoice.AccountId }, documentId);
        Assert.False(completed.AlreadyApplied);
        Assert.True(completedAgain.AlreadyApplied);
        Assert.Single(await CallsAsync($"/accounts/{invoice.AccountId}/complete_invoices"));
        Assert.Equal("completed", (await StateAsync(invoice.Id)).PaymentStatus);
    }

    [Fact]
    public async Task Completing_an_invoice_whose_payment_was_cancelled_is_rejected_with_INVOICE_0017_without_retry()
    {
        var invoice = await SeedAsync(paymentStatus: "cancelled");
        var documentId = NewDocumentId();

        var rejected = await PublishAndAwaitAsync<InvoiceRejected>(CompleteQueue, new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id }, documentId);

        Assert.Equal(RejectionReason.RejectedByActivePlatform, rejected.Reason);
        Assert.Equal(nameof(CompleteInvoice), rejected.MessageType);
        Assert.Equal("INVOICE-0017", rejected.ActivePlatformError?.Code);
        Assert.Equal(400, rejected.ActivePlatformError?.Status);
        var calls = await CallsAsync($"/invoices/{invoice.Id}/complete");
        Assert.Equal([400], calls.Select(c => c.Status));
        Assert.Equal("cancelled", (await StateAsync(invoice.Id)).PaymentStatus);
    }

    [Fact]
    public async Task Invalid_invoice_messages_are_rejected_before_ActivePlatform()
    {
        var documentId = NewDocumentId();
        var rejected = await PublishAndAwaitAsync<InvoiceRejected>(ApproveQueue, new { documentId, externalAmount = new { total = -1m, currency = "euro" } }, documentId);

        Assert.Equal(RejectionReason.InvalidMessage, rejected.Reason);
        Assert.Contains(rejected.ValidationErrors, e => e.StartsWith("billingDate:", StringComparison.Ordinal));
        Assert.Contains(rejected.ValidationErrors, e => e.StartsWith("accountId:", StringComparison.Ordinal));
        Assert.Contains(rejected.ValidationErrors, e => e.StartsWith("externalAmount.currency:", StringComparison.Ordinal));

        // A revoke Bridge cannot address: no invoice id and no approval of this document through Bridge.
        var unaddressable = await PublishAndAwaitAsync<InvoiceRejected>(RevokeQueue, new { documentId, billingDate = "2026-10-01", accountId = 167 }, documentId);
        Assert.Equal(RejectionReason.InvalidMessage, unaddressable.Reason);
        Assert.Contains("invoiceId", unaddressable.Description);
    }

    [Fact]
    public async Task An_approval_redelivered_after_its_lost_answer_and_a_completion_is_kept_for_an_operator_not_reported_refused()
    {
        // The approval applies and its answer is lost on every attempt: the message is dead-lettered, its effect unrecorded.
        var invoice = await SeedAsync();
        var documentId = NewDocumentId();
        var approveId = NewMessageId();
        var body = Approve(documentId, invoice);
        var path = $"/accounts/{invoice.AccountId}/approve_invoices";
        ErpMessageDeadLettered letter;
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = path, LoseAnswerNext = 1000 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(ApproveQueue, body, approveId);
            letter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.Key == documentId && e.MessageId == approveId);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }

        Assert.Equal(documentId, (await StateAsync(invoice.Id)).DocumentId);

        // The invoice is completed where Bridge did not record it (another instance killed before its commit, or by hand).
        await fixture.Bridge.Get<Bridge.ActivePlatform.Invoices.IInvoicesClient>().CompleteInvoiceAsync(
            1, Bridge.ActivePlatform.Invoices.InvoiceTarget.ById(invoice.Id), documentId, October, CancellationToken.None);

        // Its dead letter is replayed (the ERP's own copy would be held with the letter): ActivePlatform refuses it as already completed.
        var replayed = await fixture.Bridge.Get<Bridge.Host.DeadLetters.Replay.DeadLetterOperations>().ReplayAsync(letter.DeadLetterId, "tester", null, CancellationToken.None);
        Assert.Equal(Bridge.Host.DeadLetters.Replay.DeadLetterActionOutcome.Done, replayed.Outcome);
        var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == documentId && e.MessageId == approveId
            && (e is not ErpMessageDeadLettered || e is ErpMessageDeadLettered { FailureCount: > 1 }));

        var deadLettered = Assert.IsType<ErpMessageDeadLettered>(answer);
        Assert.Contains(documentId, deadLettered.Reason, StringComparison.Ordinal);
        Assert.Contains("discard this message", deadLettered.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Events.EventsFor(documentId), e => e is InvoiceRejected);
    }

    [Fact]
    public async Task Five_xx_then_success_approves_once()
    {
        var invoice = await SeedAsync();
        var documentId = NewDocumentId();
        var path = $"/accounts/{invoice.AccountId}/approve_invoices";
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = path, FailNext = 2, ErrorStatus = 503 }, CancellationToken.None);
        try
        {
            var approved = await PublishAndAwaitAsync<InvoiceApproved>(ApproveQueue, Approve(documentId, invoice), documentId);

            Assert.False(approved.AlreadyApplied);
            Assert.Equal([503, 503, 200], (await CallsAsync(path)).Select(c => c.Status));
            Assert.Equal(documentId, (await StateAsync(invoice.Id)).DocumentId);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }
}
