using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// The read-back that settles an effect whose answer was lost is itself answered with an error. That says nothing about the
/// message: it is retried like any transient failure, never rejected, and never concluded Unknown for want of an answer.
/// </summary>
[Collection(PipelineCollection3.Name)]
public sealed class ReadBackFailureTests(PipelineFixture fixture)
{
    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    private static string NewMessageId() => NewId.NextGuid().ToString("D");

    private static readonly Dictionary<string, string?> StatementLineWindow = new()
    {
        ["ActivePlatform:AttemptTimeout"] = "00:00:01",
        ["ActivePlatform:TotalTimeout"] = "00:00:02",
    };

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(422)]
    public async Task A_statement_line_whose_read_back_is_answered_with_an_error_is_settled_on_retry_not_rejected(int status)
    {
        // A lost answer is read back once the line can no longer land: a short in-flight window keeps the wait short.
        var prefix = $"bridge-rbf-{Guid.NewGuid():N}"[..22];
        await using var bridge = await fixture.StartBridgeAsync(prefix, StatementLineWindow);
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Total = 100m }, CancellationToken.None);
        var line = $"BS-{Guid.NewGuid():N}"[..20];

        // The line applies and its answer is lost; the first read-back of the payment is answered with an error.
        await Sandbox.SetFaultsAsync(
            [
                new FaultRule { Method = "POST", PathContains = $"/payments/{payment.Number}", LoseAnswerNext = 1 },
                new FaultRule { Method = "GET", PathContains = $"/payments/{payment.Id}", FailNext = 1, ErrorStatus = status },
            ],
            CancellationToken.None);
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
            }, NewMessageId());

            var outcome = await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == payment.Number);
            var completed = Assert.IsType<PaymentCompleted>(outcome);
            Assert.Equal(PaymentCompletionOutcome.PartiallyPaid, completed.Outcome);
            Assert.Equal(Assert.Single(await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None)).Id, completed.CorrectionId);
            Assert.Contains(await Sandbox.GetCallsAsync("GET", $"/payments/{payment.Id}", null, CancellationToken.None), c => c.Status == status);
            Assert.Equal([502], (await Sandbox.GetCallsAsync("POST", $"/payments/{payment.Number}", null, CancellationToken.None)).Select(c => c.Status));
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_read_back_that_keeps_failing_dead_letters_the_message_with_its_cause_and_leaves_the_line_open_not_unknown()
    {
        // A lost answer is read back once the line can no longer land: a short in-flight window keeps the wait short.
        var prefix = $"bridge-rbf-{Guid.NewGuid():N}"[..22];
        await using var bridge = await fixture.StartBridgeAsync(prefix, StatementLineWindow);
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Total = 100m }, CancellationToken.None);
        var line = $"BS-{Guid.NewGuid():N}"[..20];
        await Sandbox.SetFaultsAsync(
            [
                new FaultRule { Method = "POST", PathContains = $"/payments/{payment.Number}", LoseAnswerNext = 1 },
                new FaultRule { Method = "GET", PathContains = $"/payments/{payment.Id}", FailNext = 1_000, ErrorStatus = 400 },
            ],
            CancellationToken.None);
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
            }, NewMessageId());

            var outcome = await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == payment.Number);
            var deadLettered = Assert.IsType<ErpMessageDeadLettered>(outcome);
            Assert.Contains("reading it back to settle it failed (answered 400", deadLettered.Reason, StringComparison.Ordinal);
            var entry = await bridge.Get<IEffectJournal>().FindAsync(StatementLineEffect.Id(1, payment.Number, line), CancellationToken.None);
            Assert.Equal(EffectState.Sending, entry?.State);
            Assert.Single(await Sandbox.GetCallsAsync("POST", $"/payments/{payment.Number}", null, CancellationToken.None));
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_top_up_whose_read_back_is_answered_with_an_error_is_adopted_on_retry_not_rejected()
    {
        var key = $"topup-{Guid.NewGuid():N}";
        var account = 1_200_000 + Random.Shared.Next(99_999);
        var before = (await Sandbox.GetCallsAsync(null, null, null, CancellationToken.None)).Select(c => c.Sequence).DefaultIfEmpty().Max();
        await Sandbox.SetFaultsAsync(
            [
                new FaultRule { Method = "POST", PathContains = "/resellers/1/payments", LoseAnswerNext = 1 },
                new FaultRule { Method = "GET", PathContains = "/resellers/1/payments", FailNext = 1, ErrorStatus = 400 },
            ],
            CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(fixture.Queue(RegisterPaymentConsumer.Queue), new { key, accountId = account, total = 21.5m, comment = "top-up payment" }, NewMessageId());

            var outcome = await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == key);
            var registered = Assert.IsType<PaymentRegistered>(outcome);
            var created = Assert.Single(await Sandbox.GetPaymentsAsync(null, null, CancellationToken.None), p => p.AccountId == account);
            Assert.Equal(created.Id, registered.PaymentId);
            Assert.Contains(await Sandbox.GetCallsAsync("GET", "/resellers/1/payments", null, CancellationToken.None), c => c.Sequence > before && c.Status == 400);
            Assert.Equal([502], (await Sandbox.GetCallsAsync("POST", "/resellers/1/payments", null, CancellationToken.None)).Where(c => c.Sequence > before).Select(c => c.Status));
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }
}
