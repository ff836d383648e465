using Bridge.Contracts;
using Bridge.Host.Features.Corrections;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// ActivePlatform's docs say nothing of 5xx answers (REFERENCE.md §0): a 503 can come from a gateway that gave up on a
/// request the platform then applied. So a 503 proves nothing: the effect is settled by its read-back (or, for a
/// correction, which cannot be read back, kept for an operator) — never sent again on the strength of the 503.
/// </summary>
[Collection(PipelineCollection3.Name)]
public sealed class ServiceUnavailableTests(PipelineFixture fixture)
{
    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    private static string NewMessageId() => NewId.NextGuid().ToString("D");

    [Fact]
    public async Task A_statement_line_applied_and_answered_503_is_read_back_not_sent_again()
    {
        // The line is read back once it can no longer land: a bridge of its own with a short in-flight window.
        var prefix = $"bridge-su-{Guid.NewGuid():N}"[..22];
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["ActivePlatform:AttemptTimeout"] = "00:00:01",
            ["ActivePlatform:TotalTimeout"] = "00:00:02",
        });
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Total = 100m }, CancellationToken.None);
        var line = $"BS-{Guid.NewGuid():N}"[..20];
        var messageId = NewMessageId();
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/payments/{payment.Number}", LoseAnswerNext = 1, LostAnswerStatus = 503 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", new Dictionary<string, object?>
            {
                ["mode"] = "ByPaymentNumber",
                ["paymentNumber"] = payment.Number,
                ["paymentMethodId"] = 2,
                ["amount"] = 30m,
                ["currencyCode"] = "USD",
                ["externalTransactionId"] = line,
            }, messageId);

            var completed = Assert.IsType<PaymentCompleted>(await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId));
            var correction = Assert.Single(await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None));
            Assert.Equal(correction.Id, completed.CorrectionId);
            Assert.Equal(PaymentCompletionOutcome.PartiallyPaid, completed.Outcome);
            Assert.Equal([503], (await Sandbox.GetCallsAsync("POST", $"/payments/{payment.Number}", null, CancellationToken.None)).Select(c => c.Status));
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_top_up_applied_and_answered_503_is_adopted_not_created_twice()
    {
        var key = $"topup-{Guid.NewGuid():N}";
        var account = 1_400_000 + Random.Shared.Next(99_999);
        var before = (await Sandbox.GetCallsAsync(null, null, null, CancellationToken.None)).Select(c => c.Sequence).DefaultIfEmpty().Max();
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/resellers/1/payments", LoseAnswerNext = 1, LostAnswerStatus = 503 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(fixture.Queue(RegisterPaymentConsumer.Queue), new { key, accountId = account, total = 18m, comment = "top-up payment" }, NewMessageId());

            var registered = Assert.IsType<PaymentRegistered>(await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == key));
            var created = Assert.Single(await Sandbox.GetPaymentsAsync(null, null, CancellationToken.None), p => p.AccountId == account);
            Assert.Equal(created.Id, registered.PaymentId);
            Assert.Equal([503], (await Sandbox.GetCallsAsync("POST", "/resellers/1/payments", null, CancellationToken.None)).Where(c => c.Sequence > before).Select(c => c.Status));
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_correction_applied_and_answered_503_is_kept_for_an_operator_not_created_twice()
    {
        var key = $"corr-{Guid.NewGuid():N}";
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/corrections", LoseAnswerNext = 1, LostAnswerStatus = 503 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(fixture.Queue(CreateCorrectionConsumer.Queue), new Dictionary<string, object?>
            {
                ["key"] = key,
                ["accountId"] = PipelineFixture.AccountId,
                ["includedInvoice"] = false,
                ["total"] = 12.5m,
                ["comment"] = key,
            }, NewMessageId());

            var deadLettered = Assert.IsType<ErpMessageDeadLettered>(await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == key));
            Assert.Contains("Check the account's corrections", deadLettered.Reason, StringComparison.Ordinal);
            Assert.Single(await Sandbox.GetCorrectionsAsync(CancellationToken.None), c => c.Comment == key);
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }
}
