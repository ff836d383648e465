using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Features.Invoices;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// Completing a postpaid invoice completes its linked payment (REFERENCE.md §6 step 4), and the invoice flow cannot know that
/// payment before it sends (invoices cannot be read back; the link shows only in answers and on the payment). So a completion
/// by id of that payment can be unresolved while the invoice's completion completes it: the completion by id must never take
/// that change for its own.
/// </summary>
[Collection(PipelineCollection2.Name)]
public sealed class InvoicePaymentAttributionTests(PipelineFixture fixture)
{
    private static int _nextAccount = 81_000;

    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    private static string NewMessageId() => NewId.NextGuid().ToString("D");

    [Fact]
    public async Task A_completion_by_id_whose_send_was_lost_is_not_reported_as_completing_a_payment_the_invoice_completion_completed()
    {
        var prefix = $"bridge-invpay-{Guid.NewGuid():N}"[..24];
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["ActivePlatform:AttemptTimeout"] = "00:00:01",
            ["ActivePlatform:TotalTimeout"] = "00:00:05",
        });
        var invoice = await Sandbox.SeedInvoiceAsync(
            new SandboxInvoiceSeed { AccountId = Interlocked.Increment(ref _nextAccount), BillingDate = new DateOnly(2026, 10, 1), Total = 250m, LinkedPayment = true },
            CancellationToken.None);
        var payment = Assert.Single(await Sandbox.GetPaymentsAsync(null, invoice.PaymentId, CancellationToken.None));
        var documentId = $"NS-{Guid.NewGuid():N}"[..20];
        var approve = NewMessageId();
        await fixture.Erp.PublishJsonAsync($"{prefix}.{ApproveInvoiceConsumer.Queue}", new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id }, approve);
        await fixture.Events.WaitForAsync<InvoiceApproved>(e => e.MessageId == approve, TimeSpan.FromSeconds(60));

        // The completion by id never reaches ActivePlatform: every PATCH of the payment hangs past the timeout, so its
        // outcome stays unknown. Meanwhile the ERP completes the invoice, which completes the payment.
        var byId = NewMessageId();
        await Sandbox.SetFaultAsync(new FaultRule { Method = "PATCH", PathContains = $"/payments/{payment.Id}", HangNext = 1_000 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", new { mode = "ById", paymentId = payment.Id, paymentMethodId = 2 }, byId);
            await PipelineTestData.EventuallyAsync(
                () => bridge.Get<IEffectJournal>().FindOpenAsync(PaymentScopes.StatementLine(1), payment.Number, CancellationToken.None),
                open => open is not null);

            var complete = NewMessageId();
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompleteInvoiceConsumer.Queue}", new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id }, complete);
            var invoiceCompleted = await fixture.Events.WaitForAsync<InvoiceCompleted>(e => e.MessageId == complete, TimeSpan.FromSeconds(90));
            Assert.Equal(payment.Id, invoiceCompleted.PaymentId);
            Assert.Equal("completed", Assert.Single(await Sandbox.GetPaymentsAsync(null, payment.Id, CancellationToken.None)).Status);
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }

        var outcome = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == byId, TimeSpan.FromSeconds(120));

        // ActivePlatform never applied the completion by id: no PATCH completed the payment.
        Assert.Empty(await Sandbox.GetEffectsAsync(Bridge.Sandbox.EffectKinds.PaymentCompleted, payment.Id, CancellationToken.None));
        Assert.Null(Assert.Single(await Sandbox.GetPaymentsAsync(null, payment.Id, CancellationToken.None)).PaymentMethodId);

        // So the message must not be reported as the one that completed the payment.
        var completed = Assert.IsType<PaymentCompleted>(outcome);
        Assert.True(completed.AlreadyApplied, "the completion by id was reported as completing a payment the invoice's completion completed");
        Assert.Equal("completed", completed.PaymentStatus);
    }

    [Fact]
    public async Task A_completion_by_id_of_an_invoices_payment_whose_answer_was_lost_is_kept_for_an_operator()
    {
        // The completion by id applied and its answer was lost. Completed with the method it sets is also what the invoice's
        // completion may have done (ActivePlatform does not document the method that records): Bridge cannot tell whose it is.
        var prefix = $"bridge-invpay-{Guid.NewGuid():N}"[..24];
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["ActivePlatform:AttemptTimeout"] = "00:00:01",
            ["ActivePlatform:TotalTimeout"] = "00:00:05",
        });
        var invoice = await Sandbox.SeedInvoiceAsync(
            new SandboxInvoiceSeed { AccountId = Interlocked.Increment(ref _nextAccount), BillingDate = new DateOnly(2026, 10, 1), Total = 250m, LinkedPayment = true },
            CancellationToken.None);
        var payment = Assert.Single(await Sandbox.GetPaymentsAsync(null, invoice.PaymentId, CancellationToken.None));
        // Approved first: until then the invoice's payment has no due date and cannot be paid (REFERENCE.md §6).
        var documentId = $"NS-{Guid.NewGuid():N}"[..20];
        var approve = NewMessageId();
        await fixture.Erp.PublishJsonAsync($"{prefix}.{ApproveInvoiceConsumer.Queue}", new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id }, approve);
        await fixture.Events.WaitForAsync<InvoiceApproved>(e => e.MessageId == approve, TimeSpan.FromSeconds(60));
        var byId = NewMessageId();
        await Sandbox.SetFaultAsync(new FaultRule { Method = "PATCH", PathContains = $"/payments/{payment.Id}", LoseAnswerNext = 1 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", new { mode = "ById", paymentId = payment.Id, paymentMethodId = 2 }, byId);

            var outcome = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == byId, TimeSpan.FromSeconds(120));

            var deadLettered = Assert.IsType<ErpMessageDeadLettered>(outcome);
            Assert.Contains($"invoice {invoice.Id}", deadLettered.Reason, StringComparison.Ordinal);
            Assert.Contains("bridge effects resolve", deadLettered.Reason, StringComparison.Ordinal);
            Assert.Single(await Sandbox.GetEffectsAsync(Bridge.Sandbox.EffectKinds.PaymentCompleted, payment.Id, CancellationToken.None));
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }
}
