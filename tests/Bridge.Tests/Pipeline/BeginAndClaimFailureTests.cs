using System.Diagnostics.Metrics;
using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Storage;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// The begin-and-claim batch can fail after its claim was taken (a later statement of the batch, the answer lost on its way
/// back). The claim belongs to that attempt's owner alone, so the executor gives it back at once: the message's retry is
/// not kept busy for a whole lease by its own earlier attempt (review of issue 8's third slice).
/// </summary>
[Collection(PipelineCollection2.Name)]
public sealed class BeginAndClaimFailureTests(PipelineFixture fixture)
{
    [Fact]
    public async Task A_begin_and_claim_failing_after_its_claim_gives_the_claim_back_and_the_retry_is_applied_without_waiting_out_the_lease()
    {
        var prefix = $"bridge-bcf-{Guid.NewGuid():N}"[..22];
        var key = $"claim-then-fail-{Guid.NewGuid():N}";
        var failure = new ClaimThenFail.Once();

        // A lease far longer than the wait below: were the claim kept, the retry would be refused as busy until it ran out.
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?> { ["Bridge:Idempotency:DocumentClaimLease"] = "00:05:00" },
            services => services.AddSingleton<IIdempotencyStore>(sp => new ClaimThenFail(ActivatorUtilities.CreateInstance<SqlIdempotencyStore>(sp), failure)));
        var busy = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, bridge.Get<Bridge.Host.Messaging.MessageMetrics>().Meter) && instrument.Name == "bridge.claims.busy")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref busy));
        listener.Start();

        await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1), NewId.NextGuid().ToString("D"));
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key, TimeSpan.FromSeconds(90));

        Assert.True(failure.Fired);
        Assert.Equal(0, Volatile.Read(ref busy));
        Assert.False(string.IsNullOrEmpty(sent.ExternalInvoiceId));
    }

    /// <summary>The idempotency store, whose next begin-and-claim takes its claim and then fails, as a batch failing late would.</summary>
    private sealed class ClaimThenFail(IIdempotencyStore inner, ClaimThenFail.Once failure) : IIdempotencyStore
    {
        public sealed class Once
        {
            private int fired;

            public bool Fired => Volatile.Read(ref fired) == 1;

            public bool Fire() => Interlocked.Exchange(ref fired, 1) == 0;
        }

        public async Task<BeginAndClaim> BeginAndClaimAsync(
            string idempotencyKey, string messageType, string fingerprint, string scope, string documentKey, string owner, TimeSpan lease, string? replayCopy, CancellationToken cancellationToken)
        {
            var begun = await inner.BeginAndClaimAsync(idempotencyKey, messageType, fingerprint, scope, documentKey, owner, lease, replayCopy, cancellationToken);
            return failure.Fire() && begun.Document is not null
                ? throw new InvalidOperationException("simulated: the batch failed after its claim statement")
                : begun;
        }

        public Task<IdempotencyBegin> BeginAsync(string idempotencyKey, string messageType, string fingerprint, string? documentKey, CancellationToken cancellationToken)
            => inner.BeginAsync(idempotencyKey, messageType, fingerprint, documentKey, cancellationToken);

        public Task DeleteBegunAsync(string idempotencyKey, string fingerprint, CancellationToken cancellationToken)

            => inner.DeleteBegunAsync(idempotencyKey, fingerprint, cancellationToken);


        public Task<IdempotencyRecord?> FindAsync(string idempotencyKey, CancellationToken cancellationToken) => inner.FindAsync(idempotencyKey, cancellationToken);

        public Task SetPendingAsyncTaskAsync(string idempotencyKey, string? asyncTaskId, CancellationToken cancellationToken)
            => inner.SetPendingAsyncTaskAsync(idempotencyKey, asyncTaskId, cancellationToken);

        public Task<bool> TryMarkUnjournaledSendAsync(string idempotencyKey, CancellationToken cancellationToken)
            => inner.TryMarkUnjournaledSendAsync(idempotencyKey, cancellationToken);

        public Task<EditHold?> FindEditHoldAsync(string idempotencyKey, CancellationToken cancellationToken)
            => inner.FindEditHoldAsync(idempotencyKey, cancellationToken);

        public Task<IReadOnlyList<IdempotencyRecord>> FindMarkedForDocumentAsync(string messageType, string documentKey, CancellationToken cancellationToken)
            => inner.FindMarkedForDocumentAsync(messageType, documentKey, cancellationToken);

        public Task<bool> CompleteAsync(System.Data.Common.DbTransaction transaction, string idempotencyKey, string outcome, string? resourceId, CancellationToken cancellationToken)
            => inner.CompleteAsync(transaction, idempotencyKey, outcome, resourceId, cancellationToken);

        public Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken) => inner.PurgeAsync(olderThan, cancellationToken);
    }
}
