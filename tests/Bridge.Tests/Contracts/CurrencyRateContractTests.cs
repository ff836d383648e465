using System.Text.Json;
using System.Text.Json.Nodes;
using Bridge.Contracts;
using NJsonSchema;
using Xunit;

namespace Bridge.Tests.Contracts;

/// <summary>The currency-rate messages exist, and their schema refuses what Bridge's validation refuses.</summary>
public sealed class CurrencyRateContractTests
{
    [Fact]
    public void The_contracts_assembly_declares_the_currency_rate_command_and_events()
    {
        Assert.Contains(typeof(UpdateCurrencyRates), ContractCatalog.Commands);
        Assert.Subset(
            ContractCatalog.Events.ToHashSet(),
            new HashSet<Type> { typeof(CurrencyRatesUpdated), typeof(CurrencyRatesSkipped), typeof(CurrencyRatesRejected) });
    }

    [Theory]
    [InlineData("baseCurrency", "\"rub\"")]
    [InlineData("foreignCurrency", "\"US\"")]
    [InlineData("quantity", "0")]
    [InlineData("quantity", "1.5")]
    [InlineData("rate", "0")]
    [InlineData("rate", "-1.2")]
    [InlineData("rate", "\"92.5\"")]
    [InlineData("adjustment", "0.00001")]
    [InlineData("adjustment", "1000.5")]
    [InlineData("showForClient", "\"yes\"")]
    public async Task A_rate_with_a_malformed_field_is_invalid(string property, string value)
    {
        var schema = await Schema();
        var document = Sample();
        document["rates"]![0]![property] = JsonNode.Parse(value);

        Assert.NotEmpty(schema.Validate(document.ToJsonString()));
    }

    [Theory]
    [InlineData("rates", "[]")]
    [InlineData("effectiveAt", "\"yesterday\"")]
    [InlineData("key", "\"\"")]
    [InlineData("resellerId", "0")]
    public async Task A_batch_with_a_malformed_field_is_invalid(string property, string value)
    {
        var schema = await Schema();
        var document = Sample();
        document[property] = JsonNode.Parse(value);

        Assert.NotEmpty(schema.Validate(document.ToJsonString()));
    }

    [Fact]
    public async Task The_bounds_themselves_are_valid()
    {
        var schema = await Schema();
        var document = Sample();
        document["rates"]![0]!["adjustment"] = 0.0001m;
        document["rates"]![0]!["quantity"] = 1;
        document["rates"]![1]!["adjustment"] = 1000;

        Assert.Empty(schema.Validate(document.ToJsonString()));
    }

    private static Task<JsonSchema> Schema() => JsonSchema.FromFileAsync(ContractFiles.SchemaPath(nameof(UpdateCurrencyRates)), CancellationToken.None);

    private static JsonObject Sample() =>
        JsonSerializer.SerializeToNode(ContractSamples.For(typeof(UpdateCurrencyRates))[0], ContractSamples.Web)!.AsObject();
}
