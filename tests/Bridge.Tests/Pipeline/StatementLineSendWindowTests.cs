using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// How long a statement line may still land in ActivePlatform counts from its send, not from its journal entry: between
/// the two the payment is read again, and that read may take as long as ActivePlatform (or a paused process) makes it.
/// </summary>
[Collection(PipelineCollection4.Name)]
public sealed class StatementLineSendWindowTests(PipelineFixture fixture)
{
    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    [Fact]
    public async Task A_line_held_up_between_its_journal_entry_and_its_send_is_not_sent_after_its_entry_was_settled_as_not_applied()
    {
        // The line is journaled and the payment read again before the send; that read's answer is held up past the in-flight
        // window (total timeout plus one attempt, 3 s here). Meanwhile a cancellation of the payment settles the line's open
        // entry — the payment unchanged after the window: "not applied" — and cancels the payment. Then the held delivery goes
        // on. Had it sent, ActivePlatform would add a correction for the line on the cancelled payment, and the line, open
        // again as not applied, would be sent by its retry for a second correction: one bank line credited twice.
        var prefix = $"bridge-slw-{Guid.NewGuid():N}"[..22];
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Status = "waiting_for_payment", Total = 100m }, CancellationToken.None);
        var hold = new HoldSecondRead(payment.Number);
        await using var bridge = await StartHeldAsync(prefix, hold);

        try
        {
            var line = $"BS-{Guid.NewGuid():N}"[..20];
            var complete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", ByNumber(payment, line), complete);
            await hold.Reached.Task.WaitAsync(TimeSpan.FromSeconds(120));

            // The cancellation waits for the line until the window has passed, then settles it and cancels the payment.
            var cancel = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CancelPaymentConsumer.Queue}", new { paymentId = payment.Id }, cancel);
            var cancelled = await fixture.Events.WaitForAsync<PaymentCancelled>(e => e.MessageId == cancel, TimeSpan.FromSeconds(120));
            Assert.False(cancelled.AlreadyApplied);

            hold.Resume.TrySetResult();
            var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == complete, TimeSpan.FromSeconds(120));

            // Sent once, after the cancellation, as ActivePlatform's matrix has it for a closed payment: one correction.
            var corrections = await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None);
            Assert.True(corrections.Count == 1, $"the line made {corrections.Count} corrections on the cancelled payment (answered {answer.GetType().Name})");
            var completed = Assert.IsType<PaymentCompleted>(answer);
            Assert.Equal(PaymentCompletionOutcome.AlreadyClosed, completed.Outcome);
            Assert.Equal(Assert.Single(corrections).Id, completed.CorrectionId);
        }
        finally
        {
            hold.Resume.TrySetResult();
        }
    }

    [Fact]
    public async Task A_line_sent_while_another_delivery_read_it_back_is_not_settled_as_not_applied_on_that_read_back()
    {
        // As above, but the held delivery goes on while the cancellation is reading the payment back to settle the line: it
        // stamps its send and the line lands after the cancellation's reads were taken, before it writes what they showed
        // ("unchanged, and the window has passed": not applied). Written so, the line's own answer is superseded, and its
        // retry, finding it not applied, sends it again on the payment the cancellation then cancels: credited twice.
        var prefix = $"bridge-slr-{Guid.NewGuid():N}"[..22];
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Status = "waiting_for_payment", Total = 100m }, CancellationToken.None);
        var hold = new HoldSecondRead(payment.Number, payment.Id);
        await using var bridge = await StartHeldAsync(prefix, hold);

        try
        {
            var line = $"BS-{Guid.NewGuid():N}"[..20];
            var complete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", ByNumber(payment, line), complete);
            await hold.Reached.Task.WaitAsync(TimeSpan.FromSeconds(120));

            // Once the window has passed since the entry (by the database's clock), the cancellation's read-back lets the line
            // go on, and hands back what it read before the line landed.
            await PipelineTestData.EventuallyAsync(
                () => bridge.Get<IEffectJournal>().FindOpenAsync(PaymentScopes.StatementLine(1), payment.Number, CancellationToken.None),
                open => open is { SinceSent.TotalSeconds: > 3.5 },
                TimeSpan.FromSeconds(60));
            hold.ReleaseDuringReadBack = true;
            var cancel = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CancelPaymentConsumer.Queue}", new { paymentId = payment.Id }, cancel);
            await fixture.Events.WaitForAsync<PaymentCancelled>(e => e.MessageId == cancel, TimeSpan.FromSeconds(120));
            var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == complete, TimeSpan.FromSeconds(120));

            var applied = (await Sandbox.GetEffectsAsync(Bridge.Sandbox.EffectKinds.PaymentLineApplied, payment.Number, CancellationToken.None))
                .Where(e => e.Details.GetValueOrDefault("externalTransactionId") == line)
                .ToList();
            Assert.True(applied.Count == 1, $"the line was applied {applied.Count} times (answered {answer.GetType().Name})");
            var completed = Assert.IsType<PaymentCompleted>(answer);
            Assert.Equal(PaymentCompletionOutcome.PartiallyPaid, completed.Outcome);
        }
        finally
        {
            hold.Resume.TrySetResult();
            hold.Posted.TrySetResult();
            hold.ReadBackDone.TrySetResult();
        }
    }

    /// <summary>A Bridge whose payments client is <paramref name="hold"/>'s, with an in-flight window of 3 s (1 s per attempt, 2 s in all).</summary>
    private Task<BridgeInstance> StartHeldAsync(string prefix, HoldSecondRead hold) => fixture.StartBridgeAsync(
        prefix,
        new Dictionary<string, string?>
        {
            ["ActivePlatform:AttemptTimeout"] = "00:00:01",
            ["ActivePlatform:TotalTimeout"] = "00:00:02",
        },
        services => services.AddTransient<IPaymentsClient>(sp => hold.Around(ActivatorUtilities.CreateInstance<PaymentsClient>(sp))));

    private static Dictionary<string, object?> ByNumber(SandboxPayment payment, string line) => new()
    {
        ["mode"] = "ByPaymentNumber",
        ["paymentNumber"] = payment.Number,
        ["paymentMethodId"] = 2,
        ["amount"] = 40m,
        ["currencyCode"] = "USD",
        ["externalTransactionId"] = line,
    };

    /// <summary>
    /// Holds the answer of the second read of one payment by its number — the read right after the line's journal entry —
    /// until <see cref="Resume"/>: the read happened, its answer arrives late.
    /// </summary>
    /// <summary>
    /// Holds the answer of the second read of one payment by its number — the read right after the line's journal entry —
    /// until <see cref="Resume"/>: the read happened, its answer arrives late. With <see cref="ReleaseDuringReadBack"/>, the
    /// first read-back of the payment's corrections (another delivery settling the line) resumes the held delivery, waits
    /// until its line was sent, and answers what it read before; the held delivery then waits after its send until that
    /// read-back was written (the settling delivery's next read of the payment).
    /// </summary>
    private sealed class HoldSecondRead(string number, string? paymentId = null)
    {
        private readonly string number = number;
        private int reads;
        private int readBacks;

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Resume { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Posted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReadBackDone { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public volatile bool ReleaseDuringReadBack;

        private volatile bool readBackReleased;

        public IPaymentsClient Around(IPaymentsClient inner) => new Client(this, inner);

        private sealed class Client(HoldSecondRead hold, IPaymentsClient inner) : IPaymentsClient
        {
            public Task<Payment> CreateTopUpAsync(long resellerId, TopUpPayment payment, CancellationToken cancellationToken)
                => inner.CreateTopUpAsync(resellerId, payment, cancellationToken);

            public async Task<Payment?> GetAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
            {
                // The settling delivery reads the payment again only after it wrote what its read-back showed (or gave up).
                if (hold.readBackReleased && paymentId == hold.PaymentId)
                {
                    hold.ReadBackDone.TrySetResult();
                }

                return await inner.GetAsync(resellerId, paymentId, cancellationToken);
            }

            public async Task<IReadOnlyDictionary<string, PaymentCorrectionAttributes>> GetCorrectionsAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
            {
                var read = await inner.GetCorrectionsAsync(resellerId, paymentId, cancellationToken);
                if (hold.ReleaseDuringReadBack && paymentId == hold.PaymentId && Interlocked.Increment(ref hold.readBacks) == 1)
                {
                    hold.Resume.TrySetResult();
                    await hold.Posted.Task;
                    hold.readBackReleased = true;
                }

                return read;
            }

            public IAsyncEnumerable<Payment> ListAsync(long resellerId, PaymentQuery query, CancellationToken cancellationToken)
                => inner.ListAsync(resellerId, query, cancellationToken);

            public async Task<Payment?> FindByNumberAsync(long resellerId, string paymentNumber, CancellationToken cancellationToken)
            {
                var found = await inner.FindByNumberAsync(resellerId, paymentNumber, cancellationToken);
                if (paymentNumber == hold.number && Interlocked.Increment(ref hold.reads) == 2)
                {
                    hold.Reached.TrySetResult();
                    await hold.Resume.Task;
                }

                return found;
            }

            public Task<Payment> CancelAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
                => inner.CancelAsync(resellerId, paymentId, cancellationToken);

            public Task<Payment> CompleteByIdAsync(long resellerId, string paymentId, long paymentMethodId, CancellationToken cancellationToken)
                => inner.CompleteByIdAsync(resellerId, paymentId, paymentMethodId, cancellationToken);

            public Task<Payment> PayFromBalanceAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
                => inner.PayFromBalanceAsync(resellerId, paymentId, cancellationToken);

            public async Task<Payment> CompleteByNumberAsync(long resellerId, string paymentNumber, PaymentCompletionByNumber completion, CancellationToken cancellationToken)
            {
                var after = await inner.CompleteByNumberAsync(resellerId, paymentNumber, completion, cancellationToken);
                if (hold.ReleaseDuringReadBack && paymentNumber == hold.number && !hold.Posted.Task.IsCompleted)
                {
                    hold.Posted.TrySetResult();
                    await hold.ReadBackDone.Task;
                }

                return after;
            }
        }

        private string? PaymentId => paymentId;
    }
}
