using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// How long a statement line may still land in ActivePlatform counts from its send, not from its journal entry: between
/// the two the payment is read again, and that read may take as long as ActivePlatform (or a paused process) makes it.
/// </summary>
[Collection(PipelineCollection.Name)]
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
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                ["ActivePlatform:AttemptTimeout"] = "00:00:01",
                ["ActivePlatform:TotalTimeout"] = "00:00:02",
            },
            services => services.AddTransient<IPaymentsClient>(sp => hold.Around(ActivatorUtilities.CreateInstance<PaymentsClient>(sp))));

        try
        {
            var line = $"BS-{Guid.NewGuid():N}"[..20];
            var complete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{CompletePaymentConsumer.Queue}", new Dictionary<string, object?>
            {
                ["mode"] = "ByPaymentNumber",
                ["paymentNumber"] = payment.Number,
                ["paymentMethodId"] = 2,
                ["amount"] = 40m,
                ["currencyCode"] = "USD",
                ["externalTransactionId"] = line,
            }, complete);
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

    /// <summary>
    /// Holds the answer of the second read of one payment by its number — the read right after the line's journal entry —
    /// until <see cref="Resume"/>: the read happened, its answer arrives late.
    /// </summary>
    private sealed class HoldSecondRead(string number)
    {
        private readonly string number = number;
        private int reads;

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Resume { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IPaymentsClient Around(IPaymentsClient inner) => new Client(this, inner);

        private sealed class Client(HoldSecondRead hold, IPaymentsClient inner) : IPaymentsClient
        {
            public Task<Payment> CreateTopUpAsync(long resellerId, TopUpPayment payment, CancellationToken cancellationToken)
                => inner.CreateTopUpAsync(resellerId, payment, cancellationToken);

            public Task<Payment?> GetAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
                => inner.GetAsync(resellerId, paymentId, cancellationToken);

            public Task<IReadOnlyDictionary<string, PaymentCorrectionAttributes>> GetCorrectionsAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
                => inner.GetCorrectionsAsync(resellerId, paymentId, cancellationToken);

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

            public Task<Payment> CompleteByNumberAsync(long resellerId, string paymentNumber, PaymentCompletionByNumber completion, CancellationToken cancellationToken)
                => inner.CompleteByNumberAsync(resellerId, paymentNumber, completion, cancellationToken);
        }
    }
}
