using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Queries;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Queries;

/// <summary>The directory reads (reseller, downstream resellers, accounts, plans, managers) against the sandbox over sockets.</summary>
public sealed class DirectoryReadsTests : IAsyncLifetime
{
    private const string Token = "directory-tests-token-2b8e";
    private RunningSandbox _sandbox = null!;
    private StandaloneActivePlatformClient _client = null!;

    private IActivePlatformQueries Queries => _client.Services.GetRequiredService<IActivePlatformQueries>();

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxServer.StartAsync(new SandboxSettings { Tokens = [new SandboxToken { Token = Token, ResellerId = 1 }] }.WithTestAccounts(), CancellationToken.None);
        _client = ActivePlatformClientFactory.Create(new ActivePlatformOptions { BaseUrl = _sandbox.BaseAddress, ApiToken = Token, ResellerId = 1 });
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task The_reseller_and_its_downstream_resellers_are_read()
    {
        var self = await Queries.GetResellerAsync(3, CancellationToken.None);
        var children = await Queries.ListChildResellersAsync(1, new ListQuery(), CancellationToken.None);

        Assert.Equal("3", self!.Data!.Id);
        Assert.Equal(1, self.Data.Attributes.ParentId);
        Assert.Equal(["2", "3"], children.Data.Select(r => r.Id));
        await Assert.ThrowsAnyAsync<ActivePlatformPermanentException>(() => Queries.GetResellerAsync(10, CancellationToken.None));
    }

    [Fact]
    public async Task Accounts_of_the_reseller_are_listed_past_a_cap_and_read_one_by_one()
    {
        await _sandbox.Control.SetPagingAsync(new SandboxPagingSettings { MaxPageSize = 2 }, CancellationToken.None);

        var all = await Queries.ListAccountsAsync(2, new ListQuery(), CancellationToken.None);
        var one = await Queries.GetAccountAsync(2, 200_523, CancellationToken.None);
        var anotherResellers = await Queries.GetAccountAsync(2, 167, CancellationToken.None);

        Assert.Equal(["200167", "200523", "200685"], all.Data.Select(a => a.Id));
        Assert.Equal(2, all.PagesRead);
        Assert.Equal("Test company 2", one!.Data!.Attributes.Name);
        Assert.Equal(2, one.Data.Attributes.ResellerId);
        Assert.Null(anotherResellers);
    }

    [Fact]
    public async Task Plans_are_listed_and_read_with_their_resources_and_periods()
    {
        var all = await Queries.ListPlansAsync(1, new ListQuery(), CancellationToken.None);
        var plan = await Queries.GetPlanAsync(1, "804", CancellationToken.None);

        Assert.Equal(["1200", "804"], all.Data.Select(p => p.Id));
        Assert.Equal("CSP monthly", plan!.Data!.Attributes.Name);
        Assert.Equal(2, plan.Data.Attributes.PlanPeriods!.Items.Count);
        Assert.Null(await Queries.GetPlanAsync(1, "1", CancellationToken.None));
    }

    [Fact]
    public async Task Managers_are_listed_filtered_by_role_and_read_one_by_one()
    {
        var all = await Queries.ListManagersAsync(1, new ListQuery(), CancellationToken.None);
        var sales = await Queries.ListManagersAsync(1, new ListQuery { Filters = new Dictionary<string, string> { ["role"] = "sales" } }, CancellationToken.None);
        var one = await Queries.GetManagerAsync(1, "225", CancellationToken.None);

        Assert.Equal(3, all.Data.Count);
        Assert.Equal("50", Assert.Single(sales.Data).Id);
        Assert.Equal("billing", one!.Data!.Attributes.Role);
        Assert.Equal(1, one.Data.Attributes.ResellerId);
    }
}
