using System.Data.Common;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.CurrencyRates;
using Bridge.Contracts;
using Bridge.Host.Features.CurrencyRates;
using Bridge.Host.Storage;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A rate PATCH whose answer was lost may still be carried out by ActivePlatform until its in-flight window ends. A newer
/// batch of the same pair sent in that time could be overwritten by it: ActivePlatform left with the older rate while Bridge
/// records the newer. The newer batch waits until the older write can no longer land.
/// </summary>
[Collection(PipelineCollection2.Name)]
public sealed class CurrencyRateLostWriteTests(PipelineFixture fixture)
{
    private static readonly DateTimeOffset Nine = new(2026, 11, 30, 9, 0, 0, TimeSpan.FromHours(3));

    // A pair no other test writes, so the sandbox's history of it is this test's alone.
    private const int Reseller = 2;
    private const string Foreign = "CZK";
    private const decimal OlderRate = 3.91m;
    private const decimal NewerRate = 4.07m;

    [Fact]
    public async Task A_newer_batch_is_not_sent_while_an_older_batchs_unanswered_write_may_still_land()
    {
        var prefix = $"bridge-clw-{Guid.NewGuid():N}"[..22];
        var queue = $"{prefix}.{UpdateCurrencyRatesConsumer.Queue}";
        var network = new LateLanding();
        var refusals = new IntentRefusals(UpdateCurrencyRatesHandler.IntentScope(Reseller));
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                // An in-flight window of 8 s: the newer batch waits that long after the older batch's last send.
                ["ActivePlatform:TotalTimeout"] = "00:00:06",
                ["ActivePlatform:AttemptTimeout"] = "00:00:02",
            },
            services =>
            {
                services.AddTransient<ICurrencyRatesClient>(sp => network.Around(ActivatorUtilities.CreateInstance<CurrencyRatesClient>(sp)));
                services.AddSingleton<IDocumentStateStore>(sp => refusals.Around(ActivatorUtilities.CreateInstance<SqlDocumentStateStore>(sp)));
            });

        try
        {
            // The older batch's PATCH leaves, and its answer is lost: it is still on its way to ActivePlatform.
            var older = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync(queue, Batch("rates-older-" + older, Nine, OlderRate), older);
            await network.Held.Task.WaitAsync(TimeSpan.FromSeconds(120));

            // A newer batch of the same pair arrives meanwhile: it is either sent, or refused while the older write may land.
            var newer = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync(queue, Batch("rates-newer-" + newer, Nine.AddHours(1), NewerRate), newer);
            await Task.WhenAny(network.NewerSent.Task, refusals.Refused.Task).WaitAsync(TimeSpan.FromSeconds(120));

            // The older write lands now — within its window.
            await network.LandAsync();

            var updated = await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(e => e.MessageId == newer, TimeSpan.FromSeconds(120));
            Assert.Equal([Foreign], updated.Applied.Select(r => r.ForeignCurrency));
            await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == older, TimeSpan.FromSeconds(120));

            var current = Assert.Single(await fixture.Sandbox.Control.GetCurrencyRatesAsync(Reseller, CancellationToken.None), r => r.ForeignCurrency == Foreign);
            Assert.Equal("4.07", current.Rate);
            var sent = (await fixture.Sandbox.Control.GetCurrencyRatePatchesAsync(Reseller, CancellationToken.None))
                .SelectMany(p => p.Pairs)
                .Where(p => p.ForeignCurrency == Foreign)
                .Select(p => p.Rate)
                .ToList();
            Assert.Equal("4.07", sent[^1]);
            Assert.True(refusals.Refused.Task.IsCompleted, "the newer batch was never held back");
        }
        finally
        {
            // Never leave the held write unsent when the test fails early.
            await network.LandAsync();
        }
    }

    [Fact]
    public async Task An_answered_batch_gives_its_pairs_back_and_one_answered_after_a_lost_attempt_holds_them_for_the_window()
    {
        // Answered at once: nothing of the batch can land later, so the next batch of the pair need not wait.
        var answered = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync(fixture.Queue(UpdateCurrencyRatesConsumer.Queue), Batch("rates-answered-" + answered, Nine, 7.5m, "DKK"), answered);
        await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(e => e.MessageId == answered, TimeSpan.FromSeconds(120));
        Assert.Null(await HoldAsync("RUB/DKK"));

        // The first attempt is carried out and its answer lost (502); the HTTP layer's repeat is answered. Bridge cannot tell a
        // lost answer from a request still on its way, so the pair stays held until the in-flight window has passed.
        await UpdateWithFirstAnswerLostAsync(502, "PLN", 0.59m);
        var hold = await HoldAsync("RUB/PLN");
        Assert.NotNull(hold);
        Assert.True(hold.Value.RemainingMs > 60_000, $"held for {hold.Value.RemainingMs} ms more; the fixture's in-flight window is 120 s");

        // The same when the lost answer is a 503 (a gateway that gave up on a request the platform carried out).
        await UpdateWithFirstAnswerLostAsync(503, "CHF", 1.03m);
        Assert.NotNull(await HoldAsync("RUB/CHF"));
    }

    [Fact]
    public async Task A_batch_that_first_found_its_reseller_busy_and_was_answered_at_once_gives_its_pairs_back()
    {
        var prefix = $"bridge-clb-{Guid.NewGuid():N}"[..22];
        var queue = $"{prefix}.{UpdateCurrencyRatesConsumer.Queue}";
        var gate = new GatedWrite("SGD");
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            services: services => services.AddTransient<ICurrencyRatesClient>(sp => gate.Around(ActivatorUtilities.CreateInstance<CurrencyRatesClient>(sp))));

        // The first batch holds the reseller while its PATCH is on its way; the second finds the reseller busy (its record is
        // begun, so its next run is not its first) and waits.
        var first = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync(queue, Batch("rates-first-" + first, Nine, 1.31m, "SGD"), first);
        await gate.Reached.Task.WaitAsync(TimeSpan.FromSeconds(120));
        var second = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync(queue, Batch("rates-second-" + second, Nine, 0.98m, "AUD"), second);
        await PipelineTestData.EventuallyAsync(() => fixture.RecordExistsAsync(second), exists => exists, TimeSpan.FromSeconds(120));
        gate.Open.TrySetResult();

        await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(e => e.MessageId == first, TimeSpan.FromSeconds(120));
        await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(e => e.MessageId == second, TimeSpan.FromSeconds(120));

        // Both PATCHes were answered at once, and neither delivery had sent before: nothing can land later.
        Assert.Null(await HoldAsync("RUB/SGD"));
        Assert.Null(await HoldAsync("RUB/AUD"));
    }

    /// <summary>Holds the first PATCH of <paramref name="foreign"/> before it leaves until <see cref="Open"/>; then sends it as usual.</summary>
    private sealed class GatedWrite(string foreign)
    {
        private int gated;

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ICurrencyRatesClient Around(ICurrencyRatesClient inner) => new Client(this, inner);

        private sealed class Client(GatedWrite gate, ICurrencyRatesClient inner) : ICurrencyRatesClient
        {
            public Task<ResellerCurrencyRates> GetCurrencyRatesAsync(long resellerId, CancellationToken cancellationToken)
                => inner.GetCurrencyRatesAsync(resellerId, cancellationToken);

            public async Task<CurrencyRatesWritten> UpdateCurrencyRatesAsync(long resellerId, IReadOnlyList<CurrencyRateWrite> rates, CancellationToken cancellationToken)
            {
                if (rates.Any(r => r.ForeignCurrency == gate.Foreign) && Interlocked.Exchange(ref gate.gated, 1) == 0)
                {
                    gate.Reached.SetResult();
                    await gate.Open.Task.WaitAsync(TimeSpan.FromSeconds(120), CancellationToken.None);
                }

                return await inner.UpdateCurrencyRatesAsync(resellerId, rates, cancellationToken);
            }
        }

        private string Foreign => foreign;
    }

    /// <summary>Sends a batch of one pair whose first PATCH is carried out and answered <paramref name="lostAnswerStatus"/>; waits for its update.</summary>
    private async Task UpdateWithFirstAnswerLostAsync(int lostAnswerStatus, string foreign, decimal rate)
    {
        await fixture.Sandbox.Control.SetFaultAsync(
            new Bridge.Sandbox.FaultRule { Method = "PATCH", PathContains = "/resellers/2/currency_rates", LoseAnswerNext = 1, LostAnswerStatus = lostAnswerStatus },
            CancellationToken.None);
        try
        {
            var messageId = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync(fixture.Queue(UpdateCurrencyRatesConsumer.Queue), Batch($"rates-lost{lostAnswerStatus}-{messageId}", Nine, rate, foreign), messageId);
            await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(e => e.MessageId == messageId, TimeSpan.FromSeconds(120));
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }

    /// <summary>Who holds the pair's intent and for how many more milliseconds (by the database's clock), or null when no one does.</summary>
    private async Task<(string Owner, long RemainingMs)?> HoldAsync(string pair)
    {
        await using var connection = new Npgsql.NpgsqlConnection(fixture.DatabaseConnectionString);
        var row = await Dapper.SqlMapper.QuerySingleAsync<(string? Owner, long RemainingMs)>(
            connection,
            """
            SELECT claimed_by, COALESCE(CAST(EXTRACT(EPOCH FROM (claim_expires_at - clock_timestamp())) * 1000 AS bigint), 0)
            FROM bridge.document_states WHERE scope = @Scope AND document_key = @Pair
            """,
            new { Scope = UpdateCurrencyRatesHandler.IntentScope(Reseller), Pair = pair });
        return row.Owner is null ? null : (row.Owner, row.RemainingMs);
    }

    private static UpdateCurrencyRates Batch(string key, DateTimeOffset effectiveAt, decimal rate, string foreign = Foreign) => new()
    {
        Key = key,
        ResellerId = Reseller,
        EffectiveAt = effectiveAt,
        Rates = [new() { BaseCurrency = "RUB", ForeignCurrency = foreign, Quantity = 1, Rate = rate }],
    };

    /// <summary>
    /// The network between Bridge and ActivePlatform: the first PATCH of the older rate is held on its way and its sender
    /// told that no answer came; <see cref="LandAsync"/> delivers it — a real PATCH to the sandbox — when the test says.
    /// </summary>
    private sealed class LateLanding
    {
        private int held;
        private (ICurrencyRatesClient Client, long Reseller, IReadOnlyList<CurrencyRateWrite> Rates)? write;
        private int landed;

        public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource NewerSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ICurrencyRatesClient Around(ICurrencyRatesClient inner) => new Client(this, inner);

        public async Task LandAsync()
        {
            if (write is { } w && Interlocked.Exchange(ref landed, 1) == 0)
            {
                await w.Client.UpdateCurrencyRatesAsync(w.Reseller, w.Rates, CancellationToken.None);
            }
        }

        private sealed class Client(LateLanding network, ICurrencyRatesClient inner) : ICurrencyRatesClient
        {
            public Task<ResellerCurrencyRates> GetCurrencyRatesAsync(long resellerId, CancellationToken cancellationToken)
                => inner.GetCurrencyRatesAsync(resellerId, cancellationToken);

            public async Task<CurrencyRatesWritten> UpdateCurrencyRatesAsync(long resellerId, IReadOnlyList<CurrencyRateWrite> rates, CancellationToken cancellationToken)
            {
                var pair = rates.SingleOrDefault(r => r.ForeignCurrency == Foreign);
                if (pair?.Rate == OlderRate && Interlocked.Exchange(ref network.held, 1) == 0)
                {
                    network.write = (inner, resellerId, rates);
                    network.Held.SetResult();
                    throw new ActivePlatformTransientException(
                        "ActivePlatform did not answer PATCH currency_rates: timed out (injected: the request is still on its way)",
                        new ActivePlatformFailureDetails { Method = "PATCH", AnAttemptMayHaveApplied = true });
                }

                var written = await inner.UpdateCurrencyRatesAsync(resellerId, rates, cancellationToken);
                if (pair?.Rate == NewerRate)
                {
                    network.NewerSent.TrySetResult();
                }

                return written;
            }
        }
    }

    /// <summary>Signals when a batch could not hold a pair of the reseller because another batch's write of it may still land.</summary>
    private sealed class IntentRefusals(string intentScope)
    {
        public TaskCompletionSource Refused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private string IntentScope => intentScope;

        public IDocumentStateStore Around(IDocumentStateStore inner) => new Store(this, inner);

        private sealed class Store(IntentRefusals refusals, IDocumentStateStore inner) : DelegatingDocumentStateStore(inner)
        {
            public override async Task<DocumentState?> ClaimAsync(DbTransaction transaction, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
            {
                var claimed = await base.ClaimAsync(transaction, scope, documentKey, owner, lease, cancellationToken);
                if (claimed is null && scope == refusals.IntentScope)
                {
                    refusals.Refused.TrySetResult();
                }

                return claimed;
            }
        }
    }
}
