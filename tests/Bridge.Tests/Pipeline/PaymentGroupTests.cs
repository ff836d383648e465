using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// Every effect Bridge has on one payment — its statement lines, its completion by id or from balance, its cancellation —
/// is one journal group: while one's outcome is unknown no other is sent, so a statement line's read-back can only see its
/// own change, never another flow's.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class PaymentGroupTests(PipelineFixture fixture)
{
    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    private static string NewMessageId() => NewId.NextGuid().ToString("D");

    private static Dictionary<string, object?> Line(SandboxPayment payment, string line, decimal amount) => new()
    {
        ["mode"] = "ByPaymentNumber",
        ["paymentNumber"] = payment.Number,
        ["paymentMethodId"] = 2,
        ["amount"] = amount,
        ["currencyCode"] = "USD",
        ["externalTransactionId"] = line,
    };

    [Fact]
    public async Task A_completion_by_id_while_a_full_statement_line_is_unresolved_waits_and_is_never_taken_for_the_line()
    {
        // The line's POST hangs and never reaches ActivePlatform; while its outcome is unknown, the ERP completes the payment
        // by id. Completed with no new correction is exactly what the full line would have done: a read-back after the
        // completion would report the line credited though it never arrived.
        var prefix = $"bridge-group-{Guid.NewGuid():N}"[..24];
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["ActivePlatform:AttemptTimeout"] = "00:00:01",
            ["ActivePlatform:TotalTimeout"] = "00:00:05",
        });
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Total = 100m }, CancellationToken.None);
        var line = $"BS-{Guid.NewGuid():N}"[..20];
        var byId = NewMessageId();
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/payments/{payment.Number}", HangNext = 1 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", Line(payment, line, 100m), NewMessageId());
            await PipelineTestData.EventuallyAsync(
                () => bridge.Get<IEffectJournal>().FindOpenAsync(PaymentScopes.StatementLine(1), payment.Number, CancellationToken.None),
                open => open is not null);
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", new { mode = "ById", paymentId = payment.Id, paymentMethodId = 2 }, byId);

            var lineOutcome = await fixture.Events.WaitForAsync<IResultEvent>(e => e is PaymentCompleted { ExternalTransactionId: not null } c && c.ExternalTransactionId == line || e is ErpMessageDeadLettered && e.Key == payment.Number, TimeSpan.FromSeconds(90));
            var completion = await fixture.Events.WaitForAsync<PaymentCompleted>(e => e.MessageId == byId, TimeSpan.FromSeconds(90));

            // Whatever the line reports must be what ActivePlatform did: reported applied only if it arrived there.
            var after = Assert.Single(await Sandbox.GetPaymentsAsync(null, payment.Id, CancellationToken.None));
            var completedLine = Assert.IsType<PaymentCompleted>(lineOutcome);
            Assert.Contains(line, after.ExternalTransactionIds);
            Assert.Equal("completed", after.Status);
            Assert.Equal("completed", completion.PaymentStatus);
            var corrections = await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None);
            if (completedLine.Outcome == PaymentCompletionOutcome.Completed)
            {
                // The line went first: it completed the payment, and the completion by id found it completed.
                Assert.Empty(corrections);
                Assert.True(completion.AlreadyApplied);
            }
            else
            {
                // The completion went first: the line arrived at a closed payment and got its correction.
                Assert.Equal(PaymentCompletionOutcome.AlreadyClosed, completedLine.Outcome);
                Assert.Equal(Assert.Single(corrections).Id, completedLine.CorrectionId);
            }
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_cancellation_while_a_partial_statement_line_is_unresolved_waits_for_the_line_instead_of_making_it_unknown()
    {
        // The line's POST hangs and never reaches ActivePlatform; meanwhile the ERP cancels the payment. The line must be
        // settled (not applied) and sent before the cancellation, not judged against a payment the cancellation changed.
        var prefix = $"bridge-group-{Guid.NewGuid():N}"[..24];
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["ActivePlatform:AttemptTimeout"] = "00:00:01",
            ["ActivePlatform:TotalTimeout"] = "00:00:05",
        });
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Total = 100m }, CancellationToken.None);
        var line = $"BS-{Guid.NewGuid():N}"[..20];
        var cancel = NewMessageId();
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/payments/{payment.Number}", HangNext = 1 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", Line(payment, line, 30m), NewMessageId());
            await PipelineTestData.EventuallyAsync(
                () => bridge.Get<IEffectJournal>().FindOpenAsync(PaymentScopes.StatementLine(1), payment.Number, CancellationToken.None),
                open => open is not null);
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CancelPaymentConsumer.Queue}", new { paymentId = payment.Id }, cancel);

            var lineOutcome = await fixture.Events.WaitForAsync<IResultEvent>(e => e is PaymentCompleted { ExternalTransactionId: not null } c && c.ExternalTransactionId == line || e is ErpMessageDeadLettered && e.Key == payment.Number, TimeSpan.FromSeconds(90));
            var cancelOutcome = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == cancel, TimeSpan.FromSeconds(90));

            var completedLine = Assert.IsType<PaymentCompleted>(lineOutcome);
            var after = Assert.Single(await Sandbox.GetPaymentsAsync(null, payment.Id, CancellationToken.None));
            Assert.Contains(line, after.ExternalTransactionIds);
            Assert.Equal(Assert.Single(await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None)).Id, completedLine.CorrectionId);
            // Either the line went first (partially paid) and then the cancellation, or the cancellation went first once the
            // line was settled as not sent, and the line then met a closed payment.
            Assert.Contains(completedLine.Outcome, new[] { PaymentCompletionOutcome.PartiallyPaid, PaymentCompletionOutcome.AlreadyClosed });
            Assert.Equal("cancelled", Assert.IsType<PaymentCancelled>(cancelOutcome).PaymentStatus);
            Assert.Equal("cancelled", after.Status);
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }
}
