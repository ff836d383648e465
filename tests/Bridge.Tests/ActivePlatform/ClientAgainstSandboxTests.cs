using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Models;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;

namespace Bridge.Tests.ActivePlatform;

/// <summary>The typed client against the ActivePlatform sandbox over real sockets: what Bridge relies on, end to end.</summary>
public sealed class ClientAgainstSandboxTests : IAsyncLifetime
{
    private const string Token = "client-tests-token-7c1d";
    private RunningSandbox _sandbox = null!;
    private StandaloneActivePlatformClient _client = null!;

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxServer.StartAsync(
            new SandboxSettings
            {
                Tokens = [new SandboxToken { Token = Token, ResellerId = 1 }],
                Async = new AsyncModeSettings { Mode = AsyncWriteMode.KeyPattern, KeyPattern = "^async-", PollsToComplete = 3 },
            }.WithTestAccounts(),
            CancellationToken.None);
        _client = ActivePlatformClientFactory.Create(new ActivePlatformOptions
        {
            BaseUrl = _sandbox.BaseAddress,
            ApiToken = Token,
            ResellerId = 1,
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            AsyncTaskPolling = new AsyncTaskPollingOptions { InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(50) },
        });
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    private static ClosingDocumentWrite Write(string key, decimal total) => new()
    {
        Key = key,
        Type = ExternalInvoiceType.InvoiceVat,
        Name = "Счёт-фактура 42",
        Total = total,
        Currency = "EUR",
        StartDate = new DateOnly(2026, 10, 1),
        EndDate = new DateOnly(2026, 10, 31),
        FileContentType = "application/pdf",
        FileContentBase64 = Convert.ToBase64String("%PDF-1.4 test"u8.ToArray()),
    };

    [Theory]
    [InlineData(404)]
    [InlineData(403)]
    public async Task A_reseller_the_token_does_not_reach_is_a_failure_never_an_absent_document_whether_answered_404_or_403(int outOfScope)
    {
        await _sandbox.Control.SetOutOfScopeStatusAsync(outOfScope, CancellationToken.None);
        var key = Guid.NewGuid().ToString("D");

        // Reseller 10 is outside token's subtree (the sandbox's default tree); reseller 1 is the token's own.
        var find = await Assert.ThrowsAnyAsync<ActivePlatformPermanentException>(() => _client.Client.FindClosingDocumentAsync(10, 505, key, CancellationToken.None));
        var delete = await Assert.ThrowsAnyAsync<ActivePlatformPermanentException>(() => _client.Client.DeleteClosingDocumentAsync(10, 505, "277", CancellationToken.None));
        var account = await Assert.ThrowsAnyAsync<ActivePlatformPermanentException>(() => _client.Client.GetChildResellerAccountAsync(10, 505, CancellationToken.None));
        var absentInScope = await _client.Client.FindClosingDocumentAsync(1, 505, key, CancellationToken.None);
        var absentAgain = await _client.Client.FindClosingDocumentAsync(1, 505, Guid.NewGuid().ToString("D"), CancellationToken.None);

        Assert.All([find, delete, account], refused => Assert.Equal(outOfScope, refused.Status));
        Assert.Null(absentInScope);
        Assert.Null(absentAgain);
        // The reseller the token reaches is confirmed once, then its 404s are read as "absent" without asking again.
        Assert.Single(await _sandbox.Control.GetCallsAsync("GET", "/resellers/1/subscriptions", null, CancellationToken.None));
    }

    [Fact]
    public async Task A_closing_document_is_created_found_by_key_updated_and_deleted()
    {
        var key = Guid.NewGuid().ToString("D");
        Assert.Null(await _client.Client.FindClosingDocumentAsync(1, 505, key, CancellationToken.None));

        var created = await _client.Client.CreateClosingDocumentAsync(1, 505, Write(key, 10.5m), CancellationToken.None);
        var found = await _client.Client.FindClosingDocumentAsync(1, 505, key, CancellationToken.None);
        var updated = await _client.Client.UpdateClosingDocumentAsync(1, 505, found!.Id, Write(key, -3m), CancellationToken.None);
        var deleted = await _client.Client.DeleteClosingDocumentAsync(1, 505, found.Id, CancellationToken.None);
        var deletedAgain = await _client.Client.DeleteClosingDocumentAsync(1, 505, found.Id, CancellationToken.None);

        Assert.False(created.IsAsync);
        Assert.Equal(created.Resource!.Id, found.Id);
        Assert.Equal(10.5m, found.Attributes.Amount?.Total);
        Assert.Equal(-3m, updated.Resource!.Attributes.Amount?.Total);
        Assert.True(deleted.WasPresent);
        Assert.False(deletedAgain.WasPresent);
        Assert.Null(await _client.Client.FindClosingDocumentAsync(1, 505, key, CancellationToken.None));
    }

    [Fact]
    public async Task An_async_write_is_polled_to_completion_and_only_then_exists()
    {
        var key = "async-" + Guid.NewGuid().ToString("D");

        var accepted = await _client.Client.CreateClosingDocumentAsync(1, 505, Write(key, 1m), CancellationToken.None);
        Assert.True(accepted.IsAsync);
        Assert.Null(await _client.Client.FindClosingDocumentAsync(1, 505, key, CancellationToken.None));

        var task = await _client.Poller.WaitForCompletionAsync(1, accepted.AsyncTask!.Id, CancellationToken.None);

        Assert.Equal(AsyncTaskState.Completed, task.State);
        Assert.NotNull(await _client.Client.FindClosingDocumentAsync(1, 505, key, CancellationToken.None));
    }

    [Fact]
    public async Task A_child_reseller_account_is_read_and_an_unknown_one_is_null()
    {
        var account = await _client.Client.GetChildResellerAccountAsync(1, 167, CancellationToken.None);

        Assert.NotNull(account);
        Assert.Equal("167", account.Id);
        Assert.Null(await _client.Client.GetChildResellerAccountAsync(1, 999_999, CancellationToken.None));
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_retried_and_the_token_never_appears_in_a_refusal()
    {
        await _sandbox.Control.SetFaultAsync(new FaultRule { Method = "GET", PathContains = "/child_reseller_accounts/", ThrottleNext = 1, RetryAfterSeconds = 1 }, CancellationToken.None);
        var account = await _client.Client.GetChildResellerAccountAsync(1, 167, CancellationToken.None);
        Assert.NotNull(account);
        var calls = await _sandbox.Control.GetCallsAsync("GET", "/child_reseller_accounts/", null, CancellationToken.None);
        Assert.Contains(calls, c => c.Status == 429);

        await _sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        var refused = await Assert.ThrowsAnyAsync<ActivePlatformException>(() => _client.Client.GetAsyncTaskAsync(10, "no-such-task", CancellationToken.None));
        Assert.False(refused.IsTransient);
        Assert.Equal(403, refused.Status);
        Assert.DoesNotContain(Token, refused.ToString(), StringComparison.Ordinal);
    }
}
