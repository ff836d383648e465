using System.Text.Json;
using System.Text.Json.Nodes;
using Bridge.ActivePlatform.CurrencyRates;
using Bridge.ActivePlatform.Invoices;
using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Payments;
using Bridge.ActivePlatform.Queries;
using Bridge.Sandbox;
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

    [Fact]
    public void The_documented_invoice_survives_a_round_trip_with_its_string_boolean_and_string_money()
    {
        var (document, written) = RoundTrip<JsonApiResourceDocument<Invoice>>(Fixtures.Read("invoice-complete.json"));

        Assert.Equal("\"true\"", written["data"]!["attributes"]!["approved"]!.ToJsonString());
        Assert.Equal("\"987.65\"", written["data"]!["attributes"]!["total"]!.ToJsonString());
        Assert.True(document.Data!.Attributes.Approved!.Value.Value);
        Assert.Equal(987.65m, document.Data.Attributes.Total!.Value.Value);
        Assert.Equal("12201", document.Data.PaymentId);
    }

    [Fact]
    public void A_documented_payment_survives_a_round_trip_with_its_nulls_and_string_money()
    {
        var (document, written) = RoundTrip<JsonApiResourceDocument<Payment>>(Fixtures.Read("payment-completed.json"));

        var attributes = written["data"]!["attributes"]!.AsObject();
        Assert.Equal("\"199.99\"", attributes["total"]!.ToJsonString());
        Assert.Equal("\"0.0\"", attributes["discount_amount"]!.ToJsonString());
        Assert.True(attributes.ContainsKey("amount_paid_from_balance") && attributes["amount_paid_from_balance"] is null);
        Assert.Equal("2019-11-01T06:40:02.118043+0300", (string?)attributes["closed_at"]);
        Assert.Equal(199.99m, document.Data!.Attributes.Total!.Value.Value);
        Assert.Equal(new DateTimeOffset(2019, 11, 1, 6, 37, 31, TimeSpan.FromHours(3)).AddTicks(7370510), document.Data.Attributes.CreatedAt!.Value.Value);
    }

    [Fact]
    public void The_documented_currency_rates_survive_a_round_trip_in_both_shapes()
    {
        var (rates, writtenRates) = RoundTrip<JsonApiResourceDocument<ResellerCurrencyRates>>(Fixtures.Read("currency-rates.json"));
        var (records, writtenRecords) = RoundTrip<JsonApiDocument<CurrencyRateRecord>>(Fixtures.Read("currency-rate-records.json"));

        Assert.Equal("\"6.0\"", writtenRates["data"]!["attributes"]!["rates"]![0]!["rate"]!.ToJsonString());
        Assert.Equal("4", writtenRates["data"]!["attributes"]!["rates"]![0]!["quantity"]!.ToJsonString());
        Assert.Equal(6.0m, rates.Data!.Attributes.Rates![0].Rate!.Value.Value);
        Assert.Equal(JsonValueKind.Array, writtenRecords["data"]!.GetValueKind());
        Assert.Equal("\"1.2\"", writtenRecords["data"]![0]!["attributes"]!["adjustment"]!.ToJsonString());
        Assert.Equal("2024-10-04T16:23:46.198+03:00", (string?)writtenRecords["data"]![0]!["attributes"]!["created_at"]);
        Assert.Equal(1.22m, records.Items[0].Attributes.Rate!.Value.Value);
    }

    [Fact]
    public async Task The_sandboxs_payments_invoices_and_currency_rates_survive_a_round_trip()
    {
        await using var sandbox = await SandboxServer.StartAsync(CancellationToken.None);
        using var raw = sandbox.CreateClient();
        raw.DefaultRequestHeaders.Accept.ParseAdd("application/vnd.api+json");
        async Task<string> Get(string path) => await raw.GetStringAsync(new Uri("api/v3/resellers/1/" + path, UriKind.Relative));

        RoundTrip<JsonApiDocument<Payment>>(await Get("payments"));
        RoundTrip<JsonApiResourceDocument<Payment>>(await Get("payments/3001"));
        RoundTrip<JsonApiDocument<Invoice>>(await Get("invoices"));
        RoundTrip<JsonApiResourceDocument<ResellerCurrencyRates>>(await Get("currency_rates"));
    }

    /// <summary>Reads <paramref name="text"/> into the typed model, writes it again, and asserts the same JSON member for member.</summary>
    private static (T Document, JsonNode Written) RoundTrip<T>(string text)
    {
        var document = JsonSerializer.Deserialize<T>(text, QueryJson.Options)!;
        var written = JsonNode.Parse(JsonSerializer.Serialize(document, QueryJson.Options))!;

        Assert.Empty(ExtensionDataInspector.Uncaptured(document));
        JsonAssert.Same(JsonNode.Parse(text), written);
        return (document, written);
    }
}
