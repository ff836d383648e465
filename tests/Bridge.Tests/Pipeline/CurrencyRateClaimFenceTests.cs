using System.Data.Common;
using Bridge.Contracts;
using Bridge.Host.Features.CurrencyRates;
using Bridge.Host.Storage;
using Bridge.Sandbox;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A currency-rate batch records its intent and sends its PATCH only while its delivery has held the reseller's claim all
/// along. A delivery that read its pairs and then stalled (a paused process) past its lease must not send the older rate it
/// decided on after another batch took the claim and sent a newer one.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class CurrencyRateClaimFenceTests(PipelineFixture fixture)
{
    private static readonly DateTimeOffset Nine = new(2026, 11, 30, 9, 0, 0, TimeSpan.FromHours(3));

    // A pair no other test writes, so the sandbox's history of it is this test's alone.
    private const int Reseller = 2;
    private const string Foreign = "HUF";

    [Fact]
    public async Task An_older_batch_whose_delivery_lost_its_claim_while_stalled_is_not_sent_after_a_newer_one()
    {
        var prefix = $"bridge-crf-{Guid.NewGuid():N}"[..22];
        var queue = $"{prefix}.{UpdateCurrencyRatesConsumer.Queue}";
        var stall = new StallBeforeIntent(UpdateCurrencyRatesHandler.IntentScope(Reseller));
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                // A lease long enough that no renewal of the stalled delivery falls inside the stall: only the fence can
                // tell it that its claim was taken.
                ["Bridge:Idempotency:DocumentClaimLease"] = "00:01:00",
            },
            services => services.AddSingleton<IDocumentStateStore>(sp => stall.Around(ActivatorUtilities.CreateInstance<SqlDocumentStateStore>(sp))));

        try
        {
            var older = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync(queue, Batch("rates-older-" + older, Nine, 15.10m), older);

            // The older batch has read its pair (none applied yet) and is about to record its intent: it stalls there, and its
            // lease runs out meanwhile.
            await stall.Reached.Task.WaitAsync(TimeSpan.FromSeconds(120));
            var database = bridge.Get<IBridgeDatabase>();
            await using (var connection = await database.OpenAsync(CancellationToken.None))
            {
                Assert.Equal(1, await connection.ExecuteAsync(
                    "UPDATE bridge.document_states SET claim_expires_at = clock_timestamp() - interval '1 second' WHERE scope = @Scope AND document_key = @Key AND claimed_by IS NOT NULL",
                    new { Scope = UpdateCurrencyRatesHandler.ClaimScope, Key = Reseller.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
            }

            // A newer batch takes the claim, sends its rate and gives the claim back.
            var newer = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync(queue, Batch("rates-newer-" + newer, Nine.AddHours(1), 16.20m), newer);
            var updated = await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(e => e.MessageId == newer, TimeSpan.FromSeconds(120));
            Assert.Equal([Foreign], updated.Applied.Select(r => r.ForeignCurrency));

            // The older delivery wakes up.
            stall.Resume.TrySetResult();
            var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == older, TimeSpan.FromSeconds(120));

            var skipped = Assert.IsType<CurrencyRatesSkipped>(answer);
            Assert.Equal(Nine.AddHours(1), Assert.Single(skipped.Skipped).AppliedEffectiveAt);
            var sent = (await fixture.Sandbox.Control.GetCurrencyRatePatchesAsync(Reseller, CancellationToken.None))
                .SelectMany(p => p.Pairs)
                .Where(p => p.ForeignCurrency == Foreign)
                .Select(p => p.Rate);
            Assert.Equal(["16.2"], sent);
            Assert.Equal("16.2", Assert.Single(
                await fixture.Sandbox.Control.GetCurrencyRatesAsync(Reseller, CancellationToken.None), r => r.ForeignCurrency == Foreign).Rate);
        }
        finally
        {
            // Never leave a delivery held when the test fails early.
            stall.Resume.TrySetResult();
        }
    }

    private static UpdateCurrencyRates Batch(string key, DateTimeOffset effectiveAt, decimal rate) => new()
    {
        Key = key,
        ResellerId = Reseller,
        EffectiveAt = effectiveAt,
        Rates = [new() { BaseCurrency = "RUB", ForeignCurrency = Foreign, Quantity = 1, Rate = rate }],
    };

    /// <summary>
    /// Holds the first delivery that goes on from reading its pairs to recording its intent — at its claim's renewal or, were
    /// there none, at the intent's first write — until <see cref="Resume"/>, as a process paused at that moment.
    /// </summary>
    private sealed class StallBeforeIntent(string intentScope)
    {
        private int stalled;

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Resume { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IDocumentStateStore Around(IDocumentStateStore inner) => new Store(this, inner);

        private async Task StallOnceAsync()
        {
            if (Interlocked.Exchange(ref stalled, 1) == 0)
            {
                Reached.SetResult();
                await Resume.Task;
            }
        }

        private sealed class Store(StallBeforeIntent stall, IDocumentStateStore inner) : DelegatingDocumentStateStore(inner)
        {
            public override async Task<bool> TryRenewAsync(DbTransaction? transaction, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
            {
                // A renewal inside a transaction is a fence before a write; the heartbeat renews outside one.
                if (transaction is not null && scope == UpdateCurrencyRatesHandler.ClaimScope)
                {
                    await stall.StallOnceAsync();
                }

                return await base.TryRenewAsync(transaction, scope, documentKey, owner, lease, cancellationToken);
            }

            public override async Task SetAppliedAsync(DbTransaction transaction, string scope, string documentKey, string? appliedVersion, string? resourceId, bool deleted, CancellationToken cancellationToken)
            {
                if (scope == stall.IntentScope)
                {
                    await stall.StallOnceAsync();
                }

                await base.SetAppliedAsync(transaction, scope, documentKey, appliedVersion, resourceId, deleted, cancellationToken);
            }
        }

        private string IntentScope => intentScope;
    }
}
