using System.Net;
using System.Text.Json.Nodes;
using Bridge.Sandbox;
using Xunit;

namespace Bridge.Tests.Sandbox;

public sealed class CatalogTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    [Fact]
    public async Task Paging_with_the_default_size_returns_every_seeded_subscription_once()
    {
        var ids = new List<string>();
        var sizes = new List<int>();
        for (var page = 1; ; page++)
        {
            var response = await SendAsync(HttpMethod.Get, $"api/v3/resellers/1/subscriptions?page[number]={page}");
            Assert.Equal(HttpStatusCode.OK, response.Status);
            var data = response.Body!["data"]!.AsArray();
            sizes.Add(data.Count);
            ids.AddRange(data.Select(item => (string)item!["id"]!));
            if (data.Count < 50)
            {
                Assert.Null(response.Body["links"]!["next"]);
                break;
            }

            Assert.NotNull(response.Body["links"]!["next"]);
        }

        Assert.Equal([50, 50, 20], sizes);
        Assert.Equal(Fixture.Sandbox.Settings.SubscriptionsPerReseller, ids.Distinct().Count());
    }

    [Fact]
    public async Task Include_and_meta_give_the_fixture_shapes()
    {
        var response = await SendAsync(HttpMethod.Get,
            "api/v3/resellers/1/subscriptions?meta=true&page[size]=2&page[number]=2&include=account,plan,subscription_period,subscription_resources");

        var data = response.Body!["data"]!.AsArray();
        Assert.Equal(2, data.Count);
        var first = data[0]!;
        Assert.Equal("subscriptions", (string?)first["type"]);
        Assert.IsType<int>((int)first["attributes"]!["account_id"]!);
        Assert.NotNull(first["meta"]!["applications"]);
        var included = response.Body["included"]!.AsArray().Select(i => (string)i!["type"]!).ToHashSet();
        Assert.Equal(["accounts", "plans", "subscription_periods", "subscription_resources"], included.Order());
        Assert.Contains("page%5Bnumber%5D=3", (string?)response.Body["links"]!["next"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filter_and_sort_narrow_and_order_the_list()
    {
        var response = await SendAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions?filter[account_id]=523&sort=-created_at&page[size]=100");

        var data = response.Body!["data"]!.AsArray();
        Assert.Equal(40, data.Count);
        Assert.All(data, item => Assert.Equal(523, (int)item!["attributes"]!["account_id"]!));
        var created = data.Select(item => (string)item!["attributes"]!["created_at"]!).ToList();
        Assert.Equal(created.OrderDescending(StringComparer.Ordinal), created);
    }

    [Fact]
    public async Task A_child_reseller_account_has_the_documented_attributes()
    {
        var response = await SendAsync(HttpMethod.Get, "api/v3/resellers/1/child_reseller_accounts/167");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        using var stream = typeof(SandboxServer).Assembly.GetManifestResourceStream("Bridge.Sandbox.Seed.child-reseller-account.json")!;
        var example = JsonNode.Parse(stream)!["data"]!;
        Assert.True(JsonNode.DeepEquals(example["attributes"], response.Attributes));
        Assert.Equal("accounts", (string?)response.Body!["data"]!["type"]);
        Assert.NotEmpty(response.Body["data"]!["relationships"]!["subscriptions"]!["data"]!.AsArray());
    }

    [Fact]
    public async Task An_account_of_a_reseller_outside_the_path_reseller_is_404()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "api/v3/resellers/1/child_reseller_accounts/200167")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "api/v3/resellers/2/child_reseller_accounts/167")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "api/v3/resellers/1/child_reseller_accounts/42")).Status);
    }
}
