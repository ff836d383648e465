using System.Text.Json;
using System.Text.Json.Nodes;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Queries;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Queries;

/// <summary>
/// The reads of the query gateway against the sandbox over real sockets: every endpoint, paging past a cap, included kept,
/// 404 read as the write side reads it. Each test starts its own sandbox and client.
/// </summary>
public sealed class QueriesAgainstSandboxTests : IAsyncLifetime
{
    private const string Token = "queries-tests-token-41d7";
    private const int ChildReseller = 3;
    private RunningSandbox _sandbox = null!;
    private StandaloneActivePlatformClient _client = null!;

    private IActivePlatformQueries Queries => _client.Services.GetRequiredService<IActivePlatformQueries>();

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxServer.StartAsync(new SandboxSettings { Tokens = [new SandboxToken { Token = Token, ResellerId = 1 }] }.WithTestAccounts(), CancellationToken.None);
        _client = ActivePlatformClientFactory.Create(new ActivePlatformOptions
        {
            BaseUrl = _sandbox.BaseAddress,
            ApiToken = Token,
            ResellerId = 1,
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        });
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task The_account_of_a_downstream_reseller_is_read_typed_with_its_subscriptions()
    {
        var document = await Queries.GetChildResellerAccountAsync(1, 167, CancellationToken.None);

        var account = document!.Data!;
        Assert.Equal("167", account.Id);
        Assert.Equal("accounts", account.Type);
        Assert.Equal("John New", account.Attributes.Name);
        Assert.Equal(123423.0m, account.Attributes.Balance!.Value.Value);
        Assert.Equal("default", account.Attributes.AccountClass!.Key);
        Assert.Equal(40, account.Relationships!["subscriptions"].Data!.Count); // 120 seeded subscriptions over three accounts
    }

    [Fact]
    public async Task What_the_sandbox_answered_is_handed_back_member_for_member()
    {
        using var raw = _sandbox.CreateClient(Token);
        raw.DefaultRequestHeaders.Accept.ParseAdd("application/vnd.api+json");
        var account = JsonNode.Parse(await raw.GetStringAsync(new Uri("api/v3/resellers/1/child_reseller_accounts/523", UriKind.Relative)));
        var page = JsonNode.Parse(await raw.GetStringAsync(new Uri("api/v3/resellers/1/subscriptions?include=account,plan,subscription_period,subscription_resources&meta=true&page[size]=200", UriKind.Relative)));

        var typedAccount = await Queries.GetChildResellerAccountAsync(1, 523, CancellationToken.None);
        var all = await Queries.ListSubscriptionsAsync(1, new ListQuery { Include = ["account", "plan", "subscription_period", "subscription_resources"], Meta = true, PageSize = 200 }, CancellationToken.None);

        JsonAssert.Same(account, JsonNode.Parse(JsonSerializer.Serialize(typedAccount, QueryJson.Options)));
        var document = JsonNode.Parse(JsonSerializer.Serialize(all.ToDocument(), QueryJson.Options))!;
        JsonAssert.Same(page!["data"], document["data"]);
        JsonAssert.Same(page["included"], document["included"]);
    }

    [Theory]
    [InlineData(404)]
    [InlineData(403)]
    public async Task A_missing_resource_of_a_reached_reseller_is_absent_and_any_resource_of_an_unreached_one_is_a_failure(int outOfScope)
    {
        await _sandbox.Control.SetOutOfScopeStatusAsync(outOfScope, CancellationToken.None);

        Assert.Null(await Queries.GetChildResellerAccountAsync(1, 999_999, CancellationToken.None));
        Assert.Null(await Queries.GetInvoiceAsync(1, "999999", null, CancellationToken.None));
        Assert.Null(await Queries.GetPaymentAsync(1, "999999", null, CancellationToken.None));
        Assert.Null(await Queries.GetOrderAsync(1, "999999", CancellationToken.None));
        Assert.Null(await Queries.GetChargeAsync(1, "999999", CancellationToken.None));

        // Reseller 10 is outside the token's subtree.
        var account = await Assert.ThrowsAnyAsync<ActivePlatformPermanentException>(() => Queries.GetChildResellerAccountAsync(10, 167, CancellationToken.None));
        var order = await Assert.ThrowsAnyAsync<ActivePlatformPermanentException>(() => Queries.GetOrderAsync(10, "600001", CancellationToken.None));
        var list = await Assert.ThrowsAnyAsync<ActivePlatformPermanentException>(() => Queries.ListOrdersAsync(10, new ListQuery(), CancellationToken.None));
        Assert.All([account, order, list], refused => Assert.Equal(outOfScope, refused.Status));
        if (outOfScope == 404)
        {
            Assert.IsType<ResellerNotReachableException>(account);
            Assert.IsType<ResellerNotReachableException>(order);
        }

    }

    [Theory]
    [InlineData(true, false, PagingEvidence.NextLinks)]
    [InlineData(false, true, PagingEvidence.AnnouncedTotal)]
    [InlineData(false, false, PagingEvidence.ItemCounts)]
    public async Task Every_subscription_is_read_when_the_server_caps_page_size_below_what_was_asked(bool links, bool meta, PagingEvidence evidence)
    {
        await _sandbox.Control.SetPagingAsync(new SandboxPagingSettings { MaxPageSize = 7, Links = links, Meta = meta }, CancellationToken.None);

        var all = await Queries.ListSubscriptionsAsync(1, new ListQuery { PageSize = 50 }, CancellationToken.None);
        var calls = await _sandbox.Control.GetCallsAsync("GET", "/resellers/1/subscriptions", null, CancellationToken.None);

        Assert.Equal(120, all.Data.Count);
        Assert.Equal(120, all.Data.Select(s => s.Id).Distinct().Count());
        Assert.Equal(7, all.LargestPage);
        Assert.Equal(50, all.RequestedPageSize);
        Assert.Equal(evidence, all.Evidence);
        Assert.Equal(18, all.PagesRead); // 17 pages of 7 and one of 1
        Assert.Equal(18, calls.Count);
    }

    [Fact]
    public async Task Included_resources_of_every_page_are_kept_each_once()
    {
        await _sandbox.Control.SetPagingAsync(new SandboxPagingSettings { MaxPageSize = 11 }, CancellationToken.None);

        var all = await Queries.ListSubscriptionsAsync(
            1, new ListQuery { Include = ["account", "plan", "subscription_period", "subscription_resources"], PageSize = 100 }, CancellationToken.None);

        Assert.Equal(120, all.Data.Count);
        Assert.Equal(11, all.PagesRead);
        var included = all.Included.ToDictionary(r => (r.Type, r.Id));
        Assert.Equal(all.Included.Count, included.Count);
        foreach (var subscription in all.Data)
        {
            foreach (var (_, relationship) in subscription.Relationships!)
            {
                Assert.All(relationship.Data!, linked => Assert.True(included.ContainsKey((linked.Type, linked.Id)), $"{linked.Type} {linked.Id} of subscription {subscription.Id}"));
            }
        }

        Assert.Equal(3, all.Included.OfType<Account>().Count());
        Assert.Equal(2, all.Included.OfType<Plan>().Count());
        Assert.Equal(120, all.Included.OfType<SubscriptionResource>().Count());
    }

    [Fact]
    public async Task Filters_sort_and_meta_reach_the_server_and_narrow_the_list()
    {
        var all = await Queries.ListSubscriptionsAsync(
            1, new ListQuery { Filters = new Dictionary<string, string> { ["account_id"] = "523,685" }, Sort = "-id", Meta = true, PageSize = 30 }, CancellationToken.None);

        Assert.Equal(80, all.Data.Count);
        Assert.All(all.Data, s => Assert.Contains(s.Attributes.AccountId, new long?[] { 523, 685 }));
        Assert.Equal(all.Data.Select(s => long.Parse(s.Id, System.Globalization.CultureInfo.InvariantCulture)).OrderDescending(), all.Data.Select(s => long.Parse(s.Id, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(all.Data, s => Assert.NotNull(s.Meta));
    }

    [Fact]
    public async Task A_list_longer_than_the_page_budget_fails_loudly_instead_of_returning_part_of_it()
    {
        await _sandbox.Control.SetPagingAsync(new SandboxPagingSettings { MaxPageSize = 10 }, CancellationToken.None);

        var refused = await Assert.ThrowsAsync<IncompleteListingException>(() => Queries.ListSubscriptionsAsync(1, new ListQuery { MaxPages = 5 }, CancellationToken.None));

        Assert.Contains("more than 5 pages", refused.Message, StringComparison.Ordinal);
        Assert.False(refused.IsTransient);
    }

    [Fact]
    public async Task Invoices_are_read_with_their_charges_and_payment_past_a_cap()
    {
        var seeded = new List<SandboxInvoice>();
        for (var i = 0; i < 5; i++)
        {
            seeded.Add(await _sandbox.Control.SeedInvoiceAsync(
                new SandboxInvoiceSeed { ResellerId = ChildReseller, AccountId = 300_167, BillingDate = new DateOnly(2026, 6 + i, 1), Total = 100.10m + i, LinkedPayment = true },
                CancellationToken.None));
        }

        await _sandbox.Control.SetPagingAsync(new SandboxPagingSettings { MaxPageSize = 2 }, CancellationToken.None);
        var all = await Queries.ListInvoicesAsync(ChildReseller, new ListQuery { Include = ["charges"], PageSize = 50 }, CancellationToken.None);
        var one = await Queries.GetInvoiceAsync(ChildReseller, seeded[2].Id, ["charges", "payments"], CancellationToken.None);

        Assert.Equal(seeded.Select(s => s.Id), all.Data.Select(i => i.Id));
        Assert.Equal(3, all.PagesRead);
        Assert.Equal(10, all.Included.OfType<Charge>().Count());
        foreach (var invoice in all.Data)
        {
            var charges = invoice.Relationships!["charges"].Data!.Select(c => all.Included.OfType<Charge>().Single(x => x.Id == c.Id)).ToList();
            Assert.Equal(invoice.Attributes.Total, charges.Sum(c => c.Attributes.Amount!.Value.Value));
            Assert.All(charges, c => Assert.Equal(long.Parse(invoice.Id, System.Globalization.CultureInfo.InvariantCulture), c.Attributes.InvoiceId));
        }

        Assert.Equal(seeded[2].Id, one!.Data!.Id);
        Assert.Equal(102.10m, one.Data.Attributes.Total);
        Assert.Equal(2, one.Included!.OfType<Charge>().Count());
        var payment = Assert.Single(one.Included!, r => r.Type == "payments");
        Assert.Equal(one.Data.PaymentId, payment.Id);
    }

    [Fact]
    public async Task Charges_are_listed_and_read_one_by_one()
    {
        var invoice = await _sandbox.Control.SeedInvoiceAsync(
            new SandboxInvoiceSeed { ResellerId = 2, AccountId = 200_523, BillingDate = new DateOnly(2026, 9, 1), Total = 50m }, CancellationToken.None);

        var all = await Queries.ListChargesAsync(2, new ListQuery { Filters = new Dictionary<string, string> { ["invoice_id"] = invoice.Id } }, CancellationToken.None);
        var one = await Queries.GetChargeAsync(2, all.Data[1].Id, CancellationToken.None);

        Assert.Equal(2, all.Data.Count);
        Assert.Equal(50m, all.Data.Sum(c => c.Attributes.Amount!.Value.Value));
        Assert.Equal(all.Data[1].Attributes.Amount, one!.Data!.Attributes.Amount);
        Assert.True(one.Data.Attributes.Amount!.Value.Quoted);
    }

    [Fact]
    public async Task Payments_the_write_flows_created_are_listed_past_a_cap_and_read_one_by_one()
    {
        var created = await _sandbox.Control.AddPaymentAsync(new SandboxPaymentSeed { ResellerId = 1, AccountId = 685, Total = 42.5m }, CancellationToken.None);
        await _sandbox.Control.SetPagingAsync(new SandboxPagingSettings { MaxPageSize = 2, Links = false }, CancellationToken.None);

        var all = await Queries.ListPaymentsAsync(1, new ListQuery(), CancellationToken.None);
        var mine = await Queries.ListPaymentsAsync(1, new ListQuery { Filters = new Dictionary<string, string> { ["account_id"] = "685" } }, CancellationToken.None);
        var one = await Queries.GetPaymentAsync(1, created.Id, null, CancellationToken.None);

        var expected = await _sandbox.Control.GetPaymentsAsync(null, null, CancellationToken.None);
        Assert.Equal(expected.Where(p => p.ResellerId == 1).Select(p => p.Id).Order(), all.Data.Select(p => p.Id).Order());
        Assert.True(all.PagesRead >= 3);
        Assert.Equal(PagingEvidence.ItemCounts, all.Evidence);
        Assert.Contains(mine.Data, p => p.Id == created.Id);
        Assert.All(mine.Data, p => Assert.Equal(685, p.Attributes.AccountId));
        Assert.Equal(42.5m, one!.Data!.Attributes.Total);
    }

    [Fact]
    public async Task Currency_rates_are_one_object_with_the_rate_of_every_currency()
    {
        var document = await Queries.GetCurrencyRatesAsync(1, CancellationToken.None);

        Assert.Equal("currency_rates", document.Data!.Type);
        Assert.Equal("RUB", document.Data.Attributes.ResellerCurrencyIsoCode);
        Assert.NotEmpty(document.Data.Attributes.Rates!);
        Assert.Contains(document.Data.Attributes.Rates!, r => r.IsoCode == "USD");
    }

    [Fact]
    public async Task Orders_are_listed_past_a_cap_filtered_and_read_one_by_one()
    {
        await _sandbox.Control.SetPagingAsync(new SandboxPagingSettings { MaxPageSize = 5, Meta = true }, CancellationToken.None);

        var all = await Queries.ListOrdersAsync(1, new ListQuery { PageSize = 10 }, CancellationToken.None);
        var of167 = await Queries.ListOrdersAsync(1, new ListQuery { Filters = new Dictionary<string, string> { ["account_id"] = "167" }, Sort = "-created_at" }, CancellationToken.None);
        var one = await Queries.GetOrderAsync(1, all.Data[3].Id, CancellationToken.None);

        Assert.Equal(12, all.Data.Count);
        Assert.Equal(3, all.PagesRead);
        Assert.Equal(12, all.AnnouncedTotal);
        Assert.Equal(4, of167.Data.Count);
        Assert.Equal(of167.Data.OrderByDescending(o => o.Attributes.CreatedAt!.Value.Value).Select(o => o.Id), of167.Data.Select(o => o.Id));
        Assert.Equal(all.Data[3].Attributes.DocumentId, one!.Data!.Attributes.DocumentId);
        Assert.Equal("prolong_order", one.Data.Attributes.OrderType);
    }

    [Fact]
    public async Task A_subscription_is_read_by_id()
    {
        var first = (await Queries.ListSubscriptionsAsync(1, new ListQuery { PageSize = 200 }, CancellationToken.None)).Data[0];

        var one = await Queries.GetSubscriptionAsync(1, first.Id, ["plan"], CancellationToken.None);

        Assert.Equal(first.Id, one!.Data!.Id);
        Assert.IsType<Plan>(Assert.Single(one.Included!));
    }
}
