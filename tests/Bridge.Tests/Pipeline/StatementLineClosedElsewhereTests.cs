using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A statement line's group fences the payment against Bridge's own flows, never against a manager or an invoice's completion:
/// one of those may close the payment after the line recorded it open. ActivePlatform then takes the line as a correction for
/// the whole amount (REFERENCE.md §2.5), and the line must be reported so — never as the line that completed the payment,
/// which would hide money credited to the account twice.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class StatementLineClosedElsewhereTests(PipelineFixture fixture)
{
    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    [Fact]
    public async Task A_line_that_lands_after_a_manager_closed_the_payment_is_reported_with_its_correction()
    {
        var prefix = $"bridge-slce-{Guid.NewGuid():N}"[..22];
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Status = "waiting_for_payment", Total = 100m }, CancellationToken.None);
        var closed = 0;
        var closeFirst = new BeforeLineSend(async (number, _) =>
        {
            // A manager completes the payment by hand just before the line's send reaches ActivePlatform.
            if (number == payment.Number && Interlocked.Exchange(ref closed, 1) == 0)
            {
                await Sandbox.ChangePaymentByHandAsync(payment.Id, new SandboxHandChange { Status = "completed" }, CancellationToken.None);
            }
        });
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            null,
            services => services.AddTransient<IPaymentsClient>(sp => closeFirst.Around(ActivatorUtilities.CreateInstance<PaymentsClient>(sp))));

        var line = $"BS-{Guid.NewGuid():N}"[..20];
        var complete = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", FullLine(payment, line), complete);
        var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == complete, TimeSpan.FromSeconds(120));

        Assert.True(closed == 1, "the payment was not closed by hand before the line's send");
        var correction = Assert.Single(await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None));
        var completed = Assert.IsType<PaymentCompleted>(answer);
        Assert.True(completed.Outcome == PaymentCompletionOutcome.AlreadyClosed, $"reported {completed.Outcome} (correction {completed.CorrectionId ?? "none"}) while ActivePlatform took the line as correction {correction.Id}");
        Assert.Equal(correction.Id, completed.CorrectionId);
        Assert.False(completed.AlreadyApplied);
    }

    [Fact]
    public async Task A_line_whose_answer_was_lost_is_not_reported_as_completing_a_payment_a_manager_completed()
    {
        // The line is answered 502 without landing, and a manager completes the payment at that moment. The read-back finds the
        // payment completed and no new correction: had the line landed it would carry the line's payment method. So the line is
        // not applied; sent again once it can no longer be in flight, it lands on the closed payment as a correction.
        var prefix = $"bridge-slcl-{Guid.NewGuid():N}"[..22];
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Status = "waiting_for_payment", Total = 100m }, CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["ActivePlatform:AttemptTimeout"] = "00:00:01",
            ["ActivePlatform:TotalTimeout"] = "00:00:02",
        });
        await Sandbox.SetFaultAsync(
            new FaultRule
            {
                Method = "POST",
                PathContains = $"/payments/{payment.Number}",
                FailNext = 1,
                ErrorStatus = 502,
                ThenByHand = new SandboxHandChange { PaymentId = payment.Id, Status = "completed" },
            },
            CancellationToken.None);
        try
        {
            var line = $"BS-{Guid.NewGuid():N}"[..20];
            var complete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", FullLine(payment, line), complete);
            var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == complete, TimeSpan.FromSeconds(120));

            var landed = (await Sandbox.GetEffectsAsync(Bridge.Sandbox.EffectKinds.PaymentLineApplied, payment.Number, CancellationToken.None))
                .Where(e => e.Details.GetValueOrDefault("externalTransactionId") == line)
                .ToList();
            var completed = Assert.IsType<PaymentCompleted>(answer);
            Assert.True(landed.Count == 1, $"the line landed {landed.Count} times and was reported {completed.Outcome}");
            Assert.Equal(PaymentCompletionOutcome.AlreadyClosed, completed.Outcome);
            Assert.Equal(Assert.Single(await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None)).Id, completed.CorrectionId);
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }

    private static Dictionary<string, object?> FullLine(SandboxPayment payment, string line) => new()
    {
        ["mode"] = "ByPaymentNumber",
        ["paymentNumber"] = payment.Number,
        ["paymentMethodId"] = 2,
        ["amount"] = 100m,
        ["currencyCode"] = "USD",
        ["externalTransactionId"] = line,
    };

    /// <summary>Runs <c>hook</c> right before a statement line's send reaches ActivePlatform.</summary>
    private sealed class BeforeLineSend(Func<string, PaymentCompletionByNumber, Task> hook)
    {
        private Func<string, PaymentCompletionByNumber, Task> Hook { get; } = hook;

        public IPaymentsClient Around(IPaymentsClient inner) => new Client(this, inner);

        private sealed class Client(BeforeLineSend owner, IPaymentsClient inner) : IPaymentsClient
        {
            public Task<Payment> CreateTopUpAsync(long resellerId, TopUpPayment payment, CancellationToken cancellationToken) => inner.CreateTopUpAsync(resellerId, payment, cancellationToken);

            public Task<Payment?> GetAsync(long resellerId, string paymentId, CancellationToken cancellationToken) => inner.GetAsync(resellerId, paymentId, cancellationToken);

            public Task<IReadOnlyDictionary<string, PaymentCorrectionAttributes>> GetCorrectionsAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
                => inner.GetCorrectionsAsync(resellerId, paymentId, cancellationToken);

            public IAsyncEnumerable<Payment> ListAsync(long resellerId, PaymentQuery query, CancellationToken cancellationToken) => inner.ListAsync(resellerId, query, cancellationToken);

            public Task<Payment?> FindByNumberAsync(long resellerId, string paymentNumber, CancellationToken cancellationToken) => inner.FindByNumberAsync(resellerId, paymentNumber, cancellationToken);

            public Task<Payment> CancelAsync(long resellerId, string paymentId, CancellationToken cancellationToken) => inner.CancelAsync(resellerId, paymentId, cancellationToken);

            public Task<Payment> CompleteByIdAsync(long resellerId, string paymentId, long paymentMethodId, CancellationToken cancellationToken)
                => inner.CompleteByIdAsync(resellerId, paymentId, paymentMethodId, cancellationToken);

            public Task<Payment> PayFromBalanceAsync(long resellerId, string paymentId, CancellationToken cancellationToken) => inner.PayFromBalanceAsync(resellerId, paymentId, cancellationToken);

            public async Task<Payment> CompleteByNumberAsync(long resellerId, string paymentNumber, PaymentCompletionByNumber completion, CancellationToken cancellationToken)
            {
                await owner.Hook(paymentNumber, completion);
                return await inner.CompleteByNumberAsync(resellerId, paymentNumber, completion, cancellationToken);
            }
        }
    }
}
