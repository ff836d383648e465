using Bridge.ActivePlatform;
using Bridge.ActivePlatform.CurrencyRates;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Bridge.Tests.ActivePlatform;

/// <summary><see cref="ICurrencyRatesClient"/> as the host registers it, against the sandbox over real sockets.</summary>
public sealed class CurrencyRatesClientTests : IAsyncLifetime
{
    private RunningSandbox _sandbox = null!;
    private StandaloneActivePlatformClient _standalone = null!;

    private ICurrencyRatesClient Client => _standalone.Services.GetRequiredService<ICurrencyRatesClient>();

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxServer.StartAsync(new SandboxSettings().WithTestAccounts(), CancellationToken.None);
        _standalone = ActivePlatformClientFactory.Create(TestClients.Options(_sandbox.BaseAddress, o => o.ApiToken = SandboxSettings.DefaultToken));
    }

    public async Task DisposeAsync()
    {
        await _standalone.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task Update_sends_one_patch_with_every_pair_and_reads_the_rate_records_back()
    {
        var written = await Client.UpdateCurrencyRatesAsync(1,
        [
            new CurrencyRateWrite { BaseCurrency = "RUB", ForeignCurrency = "USD", Quantity = 1, Rate = 92.5m, Adjustment = 1.02m, ShowForClient = true },
            new CurrencyRateWrite { BaseCurrency = "RUB", ForeignCurrency = "KZT", Quantity = 100, Rate = 18.44m },
        ], CancellationToken.None);

        Assert.False(written.AnAttemptMayHaveApplied);
        var records = written.Records;
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal("currency_rates", r.Type));
        Assert.Equal(92.5m, records[0].Attributes.Rate);
        Assert.Equal(1.02m, records[0].Attributes.Adjustment);
        Assert.True(records[0].Attributes.Current);
        Assert.Equal(1, records[0].Attributes.ResellerId);
        Assert.NotNull(records[0].Attributes.CreatedAt);
        Assert.Equal(100, records[1].Attributes.Quantity);
        Assert.Equal(1m, records[1].Attributes.Adjustment);

        var patch = Assert.Single(await _sandbox.Control.GetCurrencyRatePatchesAsync(1, CancellationToken.None));
        Assert.Equal(["USD", "KZT"], patch.Pairs.Select(p => p.ForeignCurrency));
        Assert.Equal("1.02", patch.Pairs[0].Adjustment);
        Assert.True(patch.Pairs[0].ShowForClient);

        // Absent optional values are left out of the body, not sent as null.
        Assert.Null(patch.Pairs[1].Adjustment);
        Assert.Null(patch.Pairs[1].ShowForClient);
    }

    [Fact]
    public async Task Get_reads_the_single_object_with_string_rates_as_decimals()
    {
        await Client.UpdateCurrencyRatesAsync(1, [new CurrencyRateWrite { BaseCurrency = "RUB", ForeignCurrency = "KZT", Quantity = 100, Rate = 18.44m }], CancellationToken.None);

        var rates = await Client.GetCurrencyRatesAsync(2, CancellationToken.None);

        Assert.Equal("currency_rates", rates.Type);
        Assert.Equal("RUB", rates.Attributes.ResellerCurrencyIsoCode);
        var kzt = Assert.Single(rates.Attributes.Rates!, r => r.IsoCode == "KZT");
        Assert.Equal(18.44m, kzt.Rate);
        Assert.Equal(100, kzt.Quantity);
        Assert.Contains(rates.Attributes.Rates!, r => r.IsoCode == "USD" && r.Rate == 1m);
    }

    [Fact]
    public async Task A_422_is_a_permanent_failure_with_the_platforms_title_and_no_retry()
    {
        var failure = await Assert.ThrowsAsync<ActivePlatformPermanentException>(() => Client.UpdateCurrencyRatesAsync(1,
            [new CurrencyRateWrite { BaseCurrency = "RUB", ForeignCurrency = "XTS", Quantity = 1, Rate = 1m }], CancellationToken.None));

        Assert.Equal(422, failure.Status);
        Assert.False(failure.IsTransient);
        Assert.Equal("Foreign currency XTS is not available", failure.Title);
        Assert.DoesNotContain(SandboxSettings.DefaultToken, failure.ToString(), StringComparison.Ordinal);
        Assert.Single(await _sandbox.Control.GetCallsAsync("PATCH", "/currency_rates", null, CancellationToken.None));
    }

    [Fact]
    public async Task A_503_is_retried_by_the_http_pipeline_and_the_patch_applied_once()
    {
        await _sandbox.Control.SetFaultAsync(new FaultRule { Method = "PATCH", PathContains = "/currency_rates", FailNext = 1, ErrorStatus = 503 }, CancellationToken.None);

        var written = await Client.UpdateCurrencyRatesAsync(1, [new CurrencyRateWrite { BaseCurrency = "RUB", ForeignCurrency = "EUR", Quantity = 1, Rate = 99m }], CancellationToken.None);

        Assert.Single(written.Records);
        Assert.Equal([503, 200], (await _sandbox.Control.GetCallsAsync("PATCH", "/currency_rates", null, CancellationToken.None)).Select(c => c.Status));
        Assert.Single(await _sandbox.Control.GetCurrencyRatePatchesAsync(1, CancellationToken.None));

        // A 503 proves nothing (a gateway may give up on a request the platform then carries out): the first may still land.
        Assert.True(written.AnAttemptMayHaveApplied);
    }

    [Fact]
    public async Task A_success_after_a_429_says_no_earlier_attempt_can_have_applied()
    {
        await _sandbox.Control.SetFaultAsync(new FaultRule { Method = "PATCH", PathContains = "/currency_rates", ThrottleNext = 1, RetryAfterSeconds = 0 }, CancellationToken.None);

        var written = await Client.UpdateCurrencyRatesAsync(1, [new CurrencyRateWrite { BaseCurrency = "RUB", ForeignCurrency = "EUR", Quantity = 1, Rate = 97m }], CancellationToken.None);

        Assert.Equal([429, 200], (await _sandbox.Control.GetCallsAsync("PATCH", "/currency_rates", null, CancellationToken.None)).Select(c => c.Status));
        Assert.False(written.AnAttemptMayHaveApplied);
    }

    [Fact]
    public async Task A_success_after_an_attempt_whose_answer_was_lost_says_an_earlier_attempt_may_have_applied()
    {
        await _sandbox.Control.SetFaultAsync(new FaultRule { Method = "PATCH", PathContains = "/currency_rates", LoseAnswerNext = 1 }, CancellationToken.None);

        var written = await Client.UpdateCurrencyRatesAsync(1, [new CurrencyRateWrite { BaseCurrency = "RUB", ForeignCurrency = "EUR", Quantity = 1, Rate = 98m }], CancellationToken.None);

        Assert.Single(written.Records);
        Assert.Equal([502, 200], (await _sandbox.Control.GetCallsAsync("PATCH", "/currency_rates", null, CancellationToken.None)).Select(c => c.Status));
        Assert.True(written.AnAttemptMayHaveApplied);
    }

    [Fact]
    public async Task Persistent_5xx_surfaces_as_a_transient_failure()
    {
        await _sandbox.Control.SetFaultAsync(new FaultRule { Method = "PATCH", PathContains = "/currency_rates", FailNext = 10, ErrorStatus = 502 }, CancellationToken.None);

        var failure = await Assert.ThrowsAsync<ActivePlatformTransientException>(() => Client.UpdateCurrencyRatesAsync(1,
            [new CurrencyRateWrite { BaseCurrency = "RUB", ForeignCurrency = "EUR", Quantity = 1, Rate = 99m }], CancellationToken.None));

        Assert.Equal(502, failure.Status);
        Assert.Empty(await _sandbox.Control.GetCurrencyRatePatchesAsync(1, CancellationToken.None));
    }
}
