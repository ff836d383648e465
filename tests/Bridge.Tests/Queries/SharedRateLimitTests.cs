using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Queries;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Queries;

/// <summary>Reads and writes draw on one rate limit toward the installation: a read spends a write's turn and the other way round.</summary>
public sealed class SharedRateLimitTests : IAsyncLifetime
{
    private const string Token = "rate-tests-token-9f3a";
    private RunningSandbox _sandbox = null!;

    public async Task InitializeAsync() =>
        _sandbox = await SandboxServer.StartAsync(new SandboxSettings { Tokens = [new SandboxToken { Token = Token, ResellerId = 1 }] }.WithTestAccounts(), CancellationToken.None);

    public async Task DisposeAsync() => await _sandbox.DisposeAsync();

    // One call every hundred seconds (so that no turn comes back while a busy machine runs the test: at one every five
    // seconds a slow first call let the second through), a wait of at most 200 ms, no HTTP retry: the second call is
    // refused by Bridge, unsent.
    private StandaloneActivePlatformClient Client() => ActivePlatformClientFactory.Create(new ActivePlatformOptions
    {
        BaseUrl = _sandbox.BaseAddress,
        ApiToken = Token,
        ResellerId = 1,
        RetryCount = 0,
        RateLimit = new ActivePlatformRateLimitOptions { PermitsPerSecond = 0.01, MaxWait = TimeSpan.FromMilliseconds(200) },
    });

    [Fact]
    public async Task A_write_spends_the_turn_a_read_would_have_taken()
    {
        await using var client = Client();
        var queries = client.Services.GetRequiredService<IActivePlatformQueries>();

        await client.Client.NotifyClosingDocumentsAsync(1, [167], new DateOnly(2026, 10, 1), new DateOnly(2026, 10, 31), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<ActivePlatformTransientException>(() => queries.ListOrdersAsync(1, new ListQuery(), CancellationToken.None));

        Assert.True(refused.ThrottledByBridge);
        Assert.Equal(429, refused.Status);
        Assert.Empty(await _sandbox.Control.GetCallsAsync("GET", "/orders", null, CancellationToken.None));
    }

    [Fact]
    public async Task A_read_spends_the_turn_a_write_would_have_taken()
    {
        await using var client = Client();
        var queries = client.Services.GetRequiredService<IActivePlatformQueries>();

        var rates = await queries.GetCurrencyRatesAsync(1, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<ActivePlatformTransientException>(() =>
            client.Client.NotifyClosingDocumentsAsync(1, [167], new DateOnly(2026, 10, 1), new DateOnly(2026, 10, 31), CancellationToken.None));

        Assert.NotNull(rates.Data);
        Assert.True(refused.ThrottledByBridge);
        Assert.Empty(await _sandbox.Control.GetCallsAsync("POST", "/notifications", null, CancellationToken.None));
    }
}
