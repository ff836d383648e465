using System.Text.Json;
using System.Text.Json.Nodes;
using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Queries;
using Bridge.Tests.ActivePlatform;

namespace Bridge.Tests.Queries;

/// <summary>
/// The documented examples (tests/Bridge.Tests/ActivePlatform/Fixtures, copies of the shared fixtures) read into the typed
/// read models and written again: the same JSON, member for member, type for type.
/// </summary>
public sealed class QueryFixtureRoundTripTests
{
    [Fact]
    public void The_child_reseller_account_example_survives_a_round_trip_through_the_typed_models()
    {
        var text = Fixtures.Read("child-reseller-account.json");

        var document = JsonSerializer.Deserialize<JsonApiResourceDocument<Account>>(text, QueryJson.Options)!;
        var written = JsonNode.Parse(JsonSerializer.Serialize(document, QueryJson.Options));

        Assert.Empty(ExtensionDataInspector.Uncaptured(document));
        JsonAssert.Same(JsonNode.Parse(text), written);
        Assert.Equal(JsonValueKind.Object, written!["data"]!.GetValueKind());
        Assert.Equal(JsonValueKind.String, written["data"]!["id"]!.GetValueKind());
        Assert.Equal("\"123423.0\"", written["data"]!["attributes"]!["balance"]!.ToJsonString());
        Assert.Equal("0.0", written["data"]!["attributes"]!["current_debt"]!.ToJsonString());
        Assert.Equal(123423.0m, document.Data!.Attributes.Balance!.Value.Value);
        Assert.True(document.Data.Attributes.Balance.Value.Quoted);
    }

    [Fact]
    public void The_subscriptions_page_example_survives_a_round_trip_through_the_typed_models()
    {
        var text = Fixtures.Read("subscriptions-page.json");

        var document = JsonSerializer.Deserialize<JsonApiDocument<Subscription>>(text, QueryJson.Options)!;
        var written = JsonNode.Parse(JsonSerializer.Serialize(document, QueryJson.Options));

        Assert.Empty(ExtensionDataInspector.Uncaptured(document));
        JsonAssert.Same(JsonNode.Parse(text), written);
        Assert.Equal(2, document.Items.Count);
        Assert.Equal(8, document.Included!.Count);
        Assert.Contains(document.Included, r => r is Account { Attributes.Balance: { Quoted: true } balance } && balance.Value == 9066.03m);
        Assert.Equal("\"9066.03\"", written!["included"]![0]!["attributes"]!["balance"]!.ToJsonString());
        var attributes = written["data"]![0]!["attributes"]!.AsObject();
        Assert.True(attributes.ContainsKey("promo_code") && attributes["promo_code"] is null, "an explicit null is written as one");
        Assert.EndsWith("page%5Bnumber%5D=2611&page%5Bsize%5D=2", document.Links!.Next, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_read_without_a_member_writes_it_without_that_member_and_one_read_with_null_keeps_the_null()
    {
        const string text = """{"data":{"id":"1","type":"accounts","attributes":{"name":"A","manager":null}}}""";

        var written = JsonSerializer.Serialize(JsonSerializer.Deserialize<JsonApiResourceDocument<Account>>(text, QueryJson.Options), QueryJson.Options);

        JsonAssert.Same(JsonNode.Parse(text), JsonNode.Parse(written));
    }
}
