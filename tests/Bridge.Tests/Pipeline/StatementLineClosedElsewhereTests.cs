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
[Collection(PipelineCollection3.Name)]
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
    public async Task A_line_whose_answer_was_lost_while_a_manager_completed_the_payment_is_kept_for_an_operator_neither_credited_nor_sent_again()
    {
        // The line is answered 502 without landing, and a manager completes the payment at that moment. The read-back finds the
        // payment completed by something else and no new correction. Had the line landed first, a manager reopening and
        // completing it again would look the same — and a line sent again would land twice. So it is neither credited for the
        // completion nor sent again: it is kept for an operator.
        var prefix = $"bridge-slcl-{Guid.NewGuid():N}"[..22];
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Status = "waiting_for_payment", Total = 100m }, CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(prefix, ShortWindow);
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

            Assert.True(answer is ErpMessageDeadLettered, $"answered {answer.GetType().Name} ({(answer as PaymentCompleted)?.Outcome}), not kept for an operator");
            Assert.Empty(await LandingsAsync(payment, line));
            Assert.Empty(await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None));
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_line_that_completed_the_payment_before_a_manager_reopened_it_is_never_sent_again()
    {
        // The line lands and completes the payment, its answer is lost, and a manager reopens the payment at once. Status and
        // corrections look as before the send — but the payment carries the line's method and was changed since: the line must
        // not be taken as never sent (sent again, it would complete the payment a second time).
        var prefix = $"bridge-slro-{Guid.NewGuid():N}"[..22];
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Status = "waiting_for_payment", Total = 100m }, CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(prefix, ShortWindow);
        await Sandbox.SetFaultAsync(
            new FaultRule
            {
                Method = "POST",
                PathContains = $"/payments/{payment.Number}",
                LoseAnswerNext = 1,
                ThenByHand = new SandboxHandChange { PaymentId = payment.Id, Status = "waiting_for_payment" },
            },
            CancellationToken.None);
        try
        {
            var line = $"BS-{Guid.NewGuid():N}"[..20];
            var complete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", FullLine(payment, line), complete);
            var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == complete, TimeSpan.FromSeconds(120));

            var landed = await LandingsAsync(payment, line);
            Assert.True(landed.Count == 1, $"the line landed {landed.Count} times and was answered {answer.GetType().Name}");
            Assert.IsType<ErpMessageDeadLettered>(answer);
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_line_that_never_landed_on_a_payment_cancelled_meanwhile_is_not_reported_completed()
    {
        // Found by review (helper-71): the payment was completed once with method 2 and reopened (it keeps the method); the
        // line (method 2) is answered 502 without landing while a manager cancels the payment. Cancelled with method 2 is not
        // the line's completion: the money never arrived.
        var prefix = $"bridge-slcc-{Guid.NewGuid():N}"[..22];
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Status = "completed", Total = 100m }, CancellationToken.None);
        await Sandbox.ChangePaymentByHandAsync(payment.Id, new SandboxHandChange { Status = "waiting_for_payment" }, CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(prefix, ShortWindow);
        await Sandbox.SetFaultAsync(
            new FaultRule
            {
                Method = "POST",
                PathContains = $"/payments/{payment.Number}",
                FailNext = 1,
                ErrorStatus = 502,
                ThenByHand = new SandboxHandChange { PaymentId = payment.Id, Status = "cancelled" },
            },
            CancellationToken.None);
        try
        {
            var line = $"BS-{Guid.NewGuid():N}"[..20];
            var complete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", FullLine(payment, line), complete);
            var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == complete, TimeSpan.FromSeconds(120));

            Assert.Empty(await LandingsAsync(payment, line));
            Assert.True(answer is ErpMessageDeadLettered, $"answered {answer.GetType().Name} ({(answer as PaymentCompleted)?.Outcome}, status {(answer as PaymentCompleted)?.PaymentStatus}): the line never landed");
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_managers_correction_of_the_lines_amount_is_not_taken_for_the_line_that_lands_after_it()
    {
        // The line (40 of 100) is answered 502 and lands 1.5 s later; meanwhile a manager enters a correction of 40 by hand.
        // The manager's correction is not the line's: reported as the line's, the line's own correction would be hidden.
        var prefix = $"bridge-slmc-{Guid.NewGuid():N}"[..22];
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Status = "waiting_for_payment", Total = 100m }, CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(prefix, ShortWindow);
        await Sandbox.SetFaultAsync(
            new FaultRule
            {
                Method = "POST",
                PathContains = $"/payments/{payment.Number}",
                LandLateNext = 1,
                LandLateMinMs = 1500,
                LandLateMaxMs = 1500,
                LostAnswerStatus = 502,
                ThenByHand = new SandboxHandChange { PaymentId = payment.Id, CorrectionTotal = 40m },
            },
            CancellationToken.None);
        try
        {
            var line = $"BS-{Guid.NewGuid():N}"[..20];
            var complete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", PartialLine(payment, line, 40m), complete);
            var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == complete, TimeSpan.FromSeconds(120));
            await Sandbox.AwaitLateLandingsAsync(TimeSpan.FromSeconds(30), CancellationToken.None);

            Assert.True(answer is ErpMessageDeadLettered, $"answered {answer.GetType().Name} with correction {(answer as PaymentCompleted)?.CorrectionId}, a manager's");
            Assert.Single(await LandingsAsync(payment, line));
            Assert.Equal(2, (await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None)).Count);
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_line_whose_outcome_cannot_be_told_fences_the_payment_until_it_can_no_longer_land()
    {
        // Line A (40) is answered 502 and lands 1.5 s later; a manager enters a correction of 5 at that moment, so A's read-back
        // cannot be told. Until A can no longer land it must keep fencing the payment: line B (30), sent meanwhile, would meet
        // A's late correction in its own answer and could not be told either.
        var prefix = $"bridge-slfe-{Guid.NewGuid():N}"[..22];
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Status = "waiting_for_payment", Total = 100m }, CancellationToken.None);
        var lineA = $"BSA-{Guid.NewGuid():N}"[..20];
        var lineB = $"BSB-{Guid.NewGuid():N}"[..20];
        var waitForA = new BeforeLineSend(async (_, completion) =>
        {
            if (completion.ExternalTransactionId == lineB)
            {
                // B goes out no earlier than A's late landing, as it would on a slower ActivePlatform.
                await Sandbox.AwaitLateLandingsAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            }
        });
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?> { ["ActivePlatform:AttemptTimeout"] = "00:00:02", ["ActivePlatform:TotalTimeout"] = "00:00:04" },
            services => services.AddTransient<IPaymentsClient>(sp => waitForA.Around(ActivatorUtilities.CreateInstance<PaymentsClient>(sp))));
        await Sandbox.SetFaultAsync(
            new FaultRule
            {
                Method = "POST",
                PathContains = $"/payments/{payment.Number}",
                LandLateNext = 1,
                LandLateMinMs = 1500,
                LandLateMaxMs = 1500,
                LostAnswerStatus = 502,
                ThenByHand = new SandboxHandChange { PaymentId = payment.Id, CorrectionTotal = 5m },
            },
            CancellationToken.None);
        try
        {
            var a = NewId.NextGuid().ToString("D");
            var b = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", PartialLine(payment, lineA, 40m), a);
            // B is published once A's send has reached ActivePlatform (the manager's correction goes in with it).
            await PipelineTestData.EventuallyAsync(
                () => Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None), corrections => corrections.Count > 0, TimeSpan.FromSeconds(60));
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", PartialLine(payment, lineB, 30m), b);

            var answerA = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == a, TimeSpan.FromSeconds(120));
            var answerB = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == b, TimeSpan.FromSeconds(120));

            Assert.IsType<ErpMessageDeadLettered>(answerA);
            var completedB = answerB as PaymentCompleted;
            Assert.True(completedB is not null, $"line B was answered {answerB.GetType().Name}: it was sent while line A could still land");
            Assert.Equal(PaymentCompletionOutcome.PartiallyPaid, completedB.Outcome);
            var correctionB = (await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None)).Single(c => c.Id == completedB.CorrectionId);
            Assert.Equal(30m, decimal.Parse(correctionB.Total, System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }
    }

    private static readonly Dictionary<string, string?> ShortWindow = new()
    {
        ["ActivePlatform:AttemptTimeout"] = "00:00:01",
        ["ActivePlatform:TotalTimeout"] = "00:00:02",
    };

    private async Task<List<SandboxEffect>> LandingsAsync(SandboxPayment payment, string line)
        => (await Sandbox.GetEffectsAsync(Bridge.Sandbox.EffectKinds.PaymentLineApplied, payment.Number, CancellationToken.None))
            .Where(e => e.Details.GetValueOrDefault("externalTransactionId") == line)
            .ToList();

    private static Dictionary<string, object?> PartialLine(SandboxPayment payment, string line, decimal amount) => new()
    {
        ["mode"] = "ByPaymentNumber",
        ["paymentNumber"] = payment.Number,
        ["paymentMethodId"] = 2,
        ["amount"] = amount,
        ["currencyCode"] = "USD",
        ["externalTransactionId"] = line,
    };

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
