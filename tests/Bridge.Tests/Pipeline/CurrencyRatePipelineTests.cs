using Bridge.Contracts;
using Bridge.Demo;
using Bridge.Host.Features.CurrencyRates;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// Currency rates end to end: an ERP publishes plain JSON to RabbitMQ, Bridge PATCHes the ActivePlatform sandbox over HTTP,
/// keeps idempotency records, pair versions and the outbox in PostgreSQL, and publishes result events back to RabbitMQ.
/// Each test owns its currency pairs (the sandbox and database are shared by the collection), so the sandbox's PATCH history
/// filtered by pair shows exactly what this test made Bridge send.
/// </summary>
[Collection(PipelineCollection2.Name)]
public sealed class CurrencyRatePipelineTests(PipelineFixture fixture)
{
    private static readonly DateTimeOffset Nine = new(2026, 11, 30, 9, 0, 0, TimeSpan.FromHours(3));

    private string Queue => fixture.Queue(UpdateCurrencyRatesConsumer.Queue);

    private static string NewKey() => $"rates-{Guid.NewGuid():N}";

    private static string NewMessageId() => NewId.NextGuid().ToString("D");

    private static CurrencyRate Rate(string foreign, decimal rate, int quantity = 1) =>
        new() { BaseCurrency = "RUB", ForeignCurrency = foreign, Quantity = quantity, Rate = rate };

    private static UpdateCurrencyRates Batch(string key, DateTimeOffset effectiveAt, long? resellerId, params CurrencyRate[] rates) =>
        new() { Key = key, ResellerId = resellerId, EffectiveAt = effectiveAt, Rates = rates };

    /// <summary>Every pair of <paramref name="foreign"/> that reached the sandbox in an applied PATCH, in order.</summary>
    private async Task<List<SandboxCurrencyRatePatchPair>> SentAsync(string foreign, int resellerId = 1) =>
        [.. (await fixture.Sandbox.Control.GetCurrencyRatePatchesAsync(resellerId, CancellationToken.None))
            .SelectMany(p => p.Pairs)
            .Where(p => p.BaseCurrency == "RUB" && p.ForeignCurrency == foreign)];

    private async Task<SandboxCurrencyRate> CurrentAsync(string foreign, int resellerId = 1) =>
        Assert.Single(await fixture.Sandbox.Control.GetCurrencyRatesAsync(resellerId, CancellationToken.None), r => r.BaseCurrency == "RUB" && r.ForeignCurrency == foreign);

    [Fact]
    public async Task A_batch_is_sent_as_one_patch_and_yields_CurrencyRatesUpdated()
    {
        var key = NewKey();
        var messageId = NewMessageId();

        await fixture.Erp.PublishJsonAsync(Queue, Batch(key, Nine, null, Rate("GBP", 117.25m), Rate("CNY", 12.7m, quantity: 10) with { Adjustment = 1.05m, ShowForClient = true }), messageId);

        var updated = await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(key);
        Assert.Equal(messageId, updated.MessageId);
        Assert.Equal(1, updated.ResellerId);
        Assert.Equal(Nine, updated.EffectiveAt);
        Assert.False(updated.AlreadyApplied);
        Assert.Equal(["GBP", "CNY"], updated.Applied.Select(r => r.ForeignCurrency));
        Assert.Empty(updated.Skipped);
        Assert.Equal("117.25", (await CurrentAsync("GBP")).Rate);
        var cny = await CurrentAsync("CNY");
        Assert.Equal(("12.7", 10, "1.05", true), (cny.Rate, cny.Quantity, cny.Adjustment, cny.ShowForClient));
        var patches = (await fixture.Sandbox.Control.GetCurrencyRatePatchesAsync(1, CancellationToken.None))
            .Where(p => p.Pairs.Any(pair => pair.ForeignCurrency is "GBP" or "CNY"))
            .ToList();
        Assert.Equal(2, Assert.Single(patches).Pairs.Count);
    }

    [Fact]
    public async Task A_newer_batch_then_an_older_one_skips_the_older_and_never_sends_its_rate()
    {
        var newer = NewKey();
        var older = NewKey();

        await fixture.Erp.PublishJsonAsync(Queue, Batch(newer, Nine.AddHours(3), null, Rate("CHF", 101.10m)), NewMessageId());
        await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(newer);
        await fixture.Erp.PublishJsonAsync(Queue, Batch(older, Nine, null, Rate("CHF", 99.99m)), NewMessageId());

        var skipped = await fixture.Events.WaitForAsync<CurrencyRatesSkipped>(older);
        var pair = Assert.Single(skipped.Skipped);
        Assert.Equal(("RUB", "CHF"), (pair.BaseCurrency, pair.ForeignCurrency));
        Assert.Equal(Nine.AddHours(3), pair.AppliedEffectiveAt);
        Assert.Equal(Nine, skipped.EffectiveAt);
        Assert.Equal(["101.1"], (await SentAsync("CHF")).Select(p => p.Rate));
        Assert.Equal("101.1", (await CurrentAsync("CHF")).Rate);
        Assert.DoesNotContain(fixture.Events.EventsFor(older), e => e is CurrencyRatesUpdated);
    }

    [Fact]
    public async Task A_mixed_batch_applies_only_its_newer_pairs_and_names_the_skipped_ones()
    {
        var first = NewKey();
        var mixed = NewKey();
        await fixture.Erp.PublishJsonAsync(Queue, Batch(first, Nine.AddHours(2), null, Rate("PLN", 23.5m)), NewMessageId());
        await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(first);

        await fixture.Erp.PublishJsonAsync(Queue, Batch(mixed, Nine.AddHours(1), null, Rate("PLN", 22m), Rate("TRY", 2.61m)), NewMessageId());

        var updated = await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(mixed);
        Assert.Equal(["TRY"], updated.Applied.Select(r => r.ForeignCurrency));
        var skipped = Assert.Single(updated.Skipped);
        Assert.Equal(("PLN", Nine.AddHours(2)), (skipped.ForeignCurrency, skipped.AppliedEffectiveAt));
        Assert.False(updated.AlreadyApplied);
        Assert.Equal(["23.5"], (await SentAsync("PLN")).Select(p => p.Rate));
        Assert.Equal(["2.61"], (await SentAsync("TRY")).Select(p => p.Rate));
        var patch = (await fixture.Sandbox.Control.GetCurrencyRatePatchesAsync(1, CancellationToken.None)).Single(p => p.Pairs.Any(pair => pair.ForeignCurrency == "TRY"));
        Assert.Equal(["TRY"], patch.Pairs.Select(p => p.ForeignCurrency));
    }

    [Fact]
    public async Task A_replay_of_the_same_message_id_sends_no_second_patch_and_publishes_no_second_event()
    {
        var key = NewKey();
        var messageId = NewId.NextGuid();
        var watcher = new ConsumeWatcher();
        using var observer = fixture.Bridge.Get<IBus>().ConnectConsumeObserver(watcher);
        var batch = Batch(key, Nine, null, Rate("INR", 1.09m));

        await fixture.Erp.PublishJsonAsync(Queue, batch, messageId.ToString("D"));
        await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(key);
        await fixture.Erp.PublishJsonAsync(Queue, batch, messageId.ToString("D"));
        await watcher.WhenConsumed(messageId, times: 2, CancellationToken.None);

        Assert.Single(await SentAsync("INR"));
        Assert.Single(fixture.Events.EventsFor(key));
    }

    [Fact]
    public async Task The_same_batch_under_a_new_message_id_sends_no_second_patch_and_reports_already_applied()
    {
        var key = NewKey();
        var batch = Batch(key, Nine, null, Rate("MYR", 19.8m));
        await fixture.Erp.PublishJsonAsync(Queue, batch, NewMessageId());
        await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(e => e.Key == key && !e.AlreadyApplied);

        var republished = NewMessageId();
        await fixture.Erp.PublishJsonAsync(Queue, batch, republished);

        var again = await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(e => e.MessageId == republished);
        Assert.True(again.AlreadyApplied);
        Assert.Empty(again.Applied);
        Assert.Equal([new CurrencyPair("RUB", "MYR")], again.Unchanged);
        Assert.Single(await SentAsync("MYR"));
    }

    [Fact]
    public async Task Batches_of_one_pair_published_at_once_never_leave_an_older_rate_after_a_newer_one()
    {
        var keys = Enumerable.Range(0, 4).Select(_ => NewKey()).ToList();

        // Published newest first: the ones after it are older and must never reach ActivePlatform after it.
        await Task.WhenAll(keys.Select((key, i) =>
            fixture.Erp.PublishJsonAsync(Queue, Batch(key, Nine.AddMinutes(-10 * i), null, Rate("AUD", 60m - i)), NewMessageId())));
        foreach (var key in keys)
        {
            await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == key && e is CurrencyRatesUpdated or CurrencyRatesSkipped);
        }

        var sent = (await SentAsync("AUD")).Select(p => decimal.Parse(p.Rate, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(sent.Order(), sent);
        Assert.Equal(60m, sent[^1]);
        Assert.Equal("60.0", (await CurrentAsync("AUD")).Rate);
    }

    [Fact]
    public async Task A_422_from_ActivePlatform_yields_CurrencyRatesRejected_without_retry_and_leaves_no_trace()
    {
        var key = NewKey();
        var before = (await fixture.Sandbox.Control.GetCallsAsync("PATCH", "/resellers/2/currency_rates", null, CancellationToken.None)).Count;

        // XTS passes Bridge's validation (three upper-case letters) but is no currency of the installation.
        await fixture.Erp.PublishJsonAsync(Queue, Batch(key, Nine.AddHours(5), 2, Rate("MDL", 5.1m), Rate("XTS", 1m)), NewMessageId());

        var rejected = await fixture.Events.WaitForAsync<CurrencyRatesRejected>(key);
        Assert.Equal(RejectionReason.RejectedByActivePlatform, rejected.Reason);
        Assert.Equal(nameof(UpdateCurrencyRates), rejected.MessageType);
        Assert.Equal(422, rejected.ActivePlatformError!.Status);
        Assert.Contains("XTS", rejected.ActivePlatformError.Title, StringComparison.Ordinal);
        var calls = await fixture.Sandbox.Control.GetCallsAsync("PATCH", "/resellers/2/currency_rates", null, CancellationToken.None);
        Assert.Equal([422], calls.Skip(before).Select(c => c.Status));

        // The refused batch recorded nothing: an older batch of the same pair is still applied, not skipped.
        var older = NewKey();
        await fixture.Erp.PublishJsonAsync(Queue, Batch(older, Nine, 2, Rate("MDL", 5m)), NewMessageId());
        var updated = await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(older);
        Assert.Equal(["MDL"], updated.Applied.Select(r => r.ForeignCurrency));
        Assert.Equal(["5.0"], (await SentAsync("MDL", resellerId: 2)).Select(p => p.Rate));
    }

    [Fact]
    public async Task An_invalid_batch_is_rejected_naming_every_field_and_never_reaches_ActivePlatform()
    {
        var key = NewKey();
        var batch = Batch(key, Nine, null,
            new CurrencyRate { BaseCurrency = "rub", ForeignCurrency = "SEK", Quantity = 0, Rate = 0m, Adjustment = 1000.5m },
            Rate("NOK", 8.3m),
            Rate("NOK", 8.4m));

        await fixture.Erp.PublishJsonAsync(Queue, batch, NewMessageId());

        var rejected = await fixture.Events.WaitForAsync<CurrencyRatesRejected>(key);
        Assert.Equal(RejectionReason.InvalidMessage, rejected.Reason);
        Assert.Contains(rejected.ValidationErrors, e => e.StartsWith("rates[0].baseCurrency:", StringComparison.Ordinal));
        Assert.Contains(rejected.ValidationErrors, e => e.StartsWith("rates[0].quantity:", StringComparison.Ordinal));
        Assert.Contains(rejected.ValidationErrors, e => e.StartsWith("rates[0].rate:", StringComparison.Ordinal));
        Assert.Contains(rejected.ValidationErrors, e => e.StartsWith("rates[0].adjustment:", StringComparison.Ordinal));
        Assert.Contains(rejected.ValidationErrors, e => e.StartsWith("rates[2]: the pair RUB/NOK", StringComparison.Ordinal));
        Assert.Empty(await SentAsync("SEK"));
        Assert.Empty(await SentAsync("NOK"));
    }

    [Fact]
    public async Task Five_xx_beyond_the_http_retries_then_success_applies_one_patch()
    {
        var key = NewKey();

        // One delivery makes 1 + 3 HTTP attempts: all four fail, the message is redelivered, and its next attempt succeeds.
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "PATCH", PathContains = "/resellers/3/currency_rates", FailNext = 4, ErrorStatus = 503 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(Queue, Batch(key, Nine, 3, Rate("CAD", 67.4m)), NewMessageId());

            var updated = await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(key);
            Assert.Equal(["CAD"], updated.Applied.Select(r => r.ForeignCurrency));
            var calls = await fixture.Sandbox.Control.GetCallsAsync("PATCH", "/resellers/3/currency_rates", null, CancellationToken.None);
            Assert.Equal(4, calls.Count(c => c.Status == 503));
            Assert.Single(calls, c => c.Status == 200);
            Assert.Equal(["67.4"], (await SentAsync("CAD", resellerId: 3)).Select(p => p.Rate));
            Assert.Single(fixture.Events.EventsFor(key));
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }
}
