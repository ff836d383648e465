using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;

namespace Bridge.Tests.Sandbox;

/// <summary>GET and PATCH currency_rates (REFERENCE.md §3) over real sockets, and the control API's view of them.</summary>
public sealed partial class CurrencyRatesTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private const string Rates = "api/v3/resellers/1/currency_rates";

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$")]
    private static partial Regex MillisecondTimestamp();

    private static JsonObject Pair(string baseCurrency, string foreign, int quantity, JsonNode rate, JsonNode? adjustment = null, bool? show = null)
    {
        var pair = new JsonObject { ["base_currency"] = baseCurrency, ["foreign_currency"] = foreign, ["quantity"] = quantity, ["rate"] = rate };
        if (adjustment is not null)
        {
            pair["adjustment"] = adjustment;
        }

        if (show is not null)
        {
            pair["show_for_client"] = show;
        }

        return pair;
    }

    private static JsonObject Body(params JsonObject[] pairs) => new() { ["data"] = new JsonObject { ["attributes"] = new JsonArray([.. pairs]) } };

    [Fact]
    public async Task Patch_takes_an_array_of_pairs_and_answers_an_array_of_rate_records_in_the_documented_shape()
    {
        var response = await SendAsync(HttpMethod.Patch, Rates, Body(
            Pair("USD", "EUR", 1, 1.2200, 1.2000, true),
            Pair("USD", "MYR", 100, 1.43, 1.1100, true)));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("application/vnd.api+json", response.MediaType);
        var records = Assert.IsType<JsonArray>(response.Body!["data"]);
        Assert.Equal(2, records.Count);
        var first = records[0]!;
        Assert.Equal("currency_rates", (string?)first["type"]);
        Assert.IsType<string>((string?)first["id"]);
        var attributes = first["attributes"]!;
        Assert.Equal("1.22", (string?)attributes["rate"]);
        Assert.Equal("1.2", (string?)attributes["adjustment"]);
        Assert.Equal(1, (int)attributes["quantity"]!);
        Assert.True((bool)attributes["current"]!);
        Assert.True((bool)attributes["show_for_client"]!);
        Assert.Equal(1, (int)attributes["reseller_id"]!);
        Assert.IsType<int>((int)attributes["from_id"]!);
        Assert.NotEqual((int)attributes["from_id"]!, (int)attributes["to_id"]!);
        Assert.Matches(MillisecondTimestamp(), (string?)attributes["created_at"]);
        Assert.Matches(MillisecondTimestamp(), (string?)attributes["updated_at"]);
        Assert.Equal("1.43", (string?)records[1]!["attributes"]!["rate"]);
        Assert.Equal(100, (int)records[1]!["attributes"]!["quantity"]!);
    }

    [Fact]
    public async Task Get_answers_a_single_object_with_the_reseller_currency_and_its_rates_inherited_downstream()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Patch, Rates, Body(Pair("RUB", "KZT", 100, "18.44")))).Status);

        var root = await SendAsync(HttpMethod.Get, Rates);
        var child = await SendAsync(HttpMethod.Get, "api/v3/resellers/2/currency_rates");

        Assert.Equal(HttpStatusCode.OK, root.Status);
        Assert.IsType<JsonObject>(root.Body!["data"]);
        Assert.Equal("currency_rates", (string?)root.Body!["data"]!["type"]);
        Assert.Equal("RUB", (string?)root.Attributes["reseller_currency_iso_code"]);
        Assert.Matches(MillisecondTimestamp(), (string?)root.Attributes["updated_at"]);
        foreach (var response in new[] { root, child })
        {
            var kzt = response.Attributes["rates"]!.AsArray().Single(r => (string?)r!["iso_code"] == "KZT")!;
            Assert.Equal("18.44", (string?)kzt["rate"]);
            Assert.Equal(100, (int)kzt["quantity"]!);
        }

        // Never set anywhere: the default rate 1.
        var usd = root.Attributes["rates"]!.AsArray().Single(r => (string?)r!["iso_code"] == "USD")!;
        Assert.Equal("1.0", (string?)usd["rate"]);
    }

    [Fact]
    public async Task A_pair_named_twice_is_applied_sequentially_and_ends_at_its_last_value()
    {
        var response = await SendAsync(HttpMethod.Patch, Rates, Body(Pair("RUB", "USD", 1, 90), Pair("RUB", "USD", 1, 91.5)));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(2, response.Body!["data"]!.AsArray().Count);
        var current = Assert.Single(await Control.GetCurrencyRatesAsync(1, CancellationToken.None));
        Assert.Equal("91.5", current.Rate);
        Assert.Equal(2, (await Control.GetCurrencyRatesAsync(1, CancellationToken.None, all: true)).Count);
    }

    [Theory]
    [InlineData("XTS", "USD", "1", "1.0", "Base currency XTS is not available")]
    [InlineData("RUB", "ABC", "1", "1.0", "Foreign currency ABC is not available")]
    [InlineData("RUB", "USD", "1", "0.00001", "Adjustment must be in 0.0001..1000")]
    [InlineData("RUB", "USD", "1", "1000.1", "Adjustment must be in 0.0001..1000")]
    [InlineData("RUB", "RUB", "1", "1.0", "Foreign currency must be different from base currency")]
    [InlineData("RUB", "USD", "0", "1.0", "Quantity must be an integer greater than 0")]
    public async Task An_unknown_code_or_out_of_range_value_is_a_422_and_nothing_of_the_batch_is_applied(
        string baseCurrency, string foreign, string quantity, string adjustment, string title)
    {
        var response = await SendAsync(HttpMethod.Patch, Rates, Body(
            Pair("RUB", "EUR", 1, 100),
            Pair(baseCurrency, foreign, int.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture), 2, decimal.Parse(adjustment, System.Globalization.CultureInfo.InvariantCulture))));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Equal("422", (string?)response.Body!["errors"]!["status"]);
        Assert.Contains(title, response.ErrorTitle, StringComparison.Ordinal);
        Assert.Empty(await Control.GetCurrencyRatesAsync(1, CancellationToken.None));
        Assert.Empty(await Control.GetCurrencyRatePatchesAsync(1, CancellationToken.None));
    }

    [Fact]
    public async Task A_body_without_pairs_is_a_422_param_missing()
    {
        var empty = await SendAsync(HttpMethod.Patch, Rates, new JsonObject { ["data"] = new JsonObject { ["attributes"] = new JsonArray() } });
        var none = await SendAsync(HttpMethod.Patch, Rates, new JsonObject());

        Assert.Equal(HttpStatusCode.UnprocessableEntity, empty.Status);
        Assert.Equal("param is missing or the value is empty: data", empty.ErrorTitle);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, none.Status);
    }

    [Fact]
    public async Task The_control_api_keeps_every_applied_patch_with_its_pairs_as_sent_and_reset_clears_them()
    {
        await SendAsync(HttpMethod.Patch, Rates, Body(Pair("RUB", "USD", 1, 90, show: false)));
        await SendAsync(HttpMethod.Patch, "api/v3/resellers/2/currency_rates", Body(Pair("RUB", "USD", 1, 95, 1.5)));
        await SendAsync(HttpMethod.Patch, Rates, Body(Pair("RUB", "USD", 1, "91.25"), Pair("RUB", "EUR", 1, 99)));

        var patches = await Control.GetCurrencyRatePatchesAsync(1, CancellationToken.None);
        Assert.Equal(2, patches.Count);
        Assert.True(patches[0].Sequence < patches[1].Sequence);
        Assert.Equal(["90.0"], patches[0].Pairs.Select(p => p.Rate));
        Assert.Equal(["USD", "EUR"], patches[1].Pairs.Select(p => p.ForeignCurrency));
        Assert.Null(patches[1].Pairs[0].Adjustment);
        Assert.Single(await Control.GetCurrencyRatePatchesAsync(2, CancellationToken.None));
        Assert.Equal(3, (await Control.GetCurrencyRatePatchesAsync(null, CancellationToken.None)).Count);

        // Reseller 1's USD moved on; reseller 2's own value overrides the inherited one.
        var current = await Control.GetCurrencyRatesAsync(1, CancellationToken.None);
        Assert.Equal("91.25", current.Single(r => r.ForeignCurrency == "USD").Rate);
        var child = await SendAsync(HttpMethod.Get, "api/v3/resellers/2/currency_rates");
        Assert.Equal("95.0", (string?)child.Attributes["rates"]!.AsArray().Single(r => (string?)r!["iso_code"] == "USD")!["rate"]);

        await Control.ResetAsync(CancellationToken.None);
        Assert.Empty(await Control.GetCurrencyRatePatchesAsync(null, CancellationToken.None));
        Assert.Empty(await Control.GetCurrencyRatesAsync(null, CancellationToken.None));
    }

    [Fact]
    public async Task A_reseller_outside_the_token_is_refused_and_a_faulted_patch_applies_nothing()
    {
        var outside = await SendAsync(Fixture.Sandbox.CreateClient(SandboxFixture.ChildToken), HttpMethod.Patch, Rates, Body(Pair("RUB", "USD", 1, 90)));
        Assert.Equal(HttpStatusCode.Forbidden, outside.Status);

        await Control.SetFaultAsync(new Bridge.Sandbox.FaultRule { Method = "PATCH", PathContains = "/currency_rates", FailNext = 1, ErrorStatus = 503 }, CancellationToken.None);
        var faulted = await SendAsync(HttpMethod.Patch, Rates, Body(Pair("RUB", "USD", 1, 90)));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, faulted.Status);
        Assert.Empty(await Control.GetCurrencyRatePatchesAsync(null, CancellationToken.None));

        var calls = await Control.GetCallsAsync("PATCH", "/currency_rates", null, CancellationToken.None);
        Assert.Equal([403, 503], calls.Select(c => c.Status));
    }
}
