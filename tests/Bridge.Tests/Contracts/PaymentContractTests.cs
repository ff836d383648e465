using System.Text.Json.Nodes;
using Bridge.Contracts;
using NJsonSchema;
using Xunit;

namespace Bridge.Tests.Contracts;

/// <summary>The payment messages exist, and their schemas require what each completion mode needs.</summary>
public sealed class PaymentContractTests
{
    [Fact]
    public void The_contracts_assembly_declares_the_payment_commands_and_events()
    {
        Assert.Subset(ContractCatalog.Commands.ToHashSet(), new HashSet<Type> { typeof(CompletePayment), typeof(RegisterPayment), typeof(CancelPayment) });
        Assert.Subset(
            ContractCatalog.Events.ToHashSet(),
            new HashSet<Type> { typeof(PaymentCompleted), typeof(PaymentRegistered), typeof(PaymentCancelled), typeof(PaymentRejected) });
    }

    [Theory]
    [InlineData("""{"mode":"ByPaymentNumber","paymentNumber":"002018","paymentMethodId":2,"externalTransactionId":"BS-1"}""", true)]
    [InlineData("""{"mode":"ByPaymentNumber","paymentNumber":"002018","paymentMethodId":2}""", false)]
    [InlineData("""{"mode":"ByPaymentNumber","paymentMethodId":2,"externalTransactionId":"BS-1"}""", false)]
    [InlineData("""{"mode":"ByPaymentNumber","paymentNumber":"002018","paymentMethodId":2,"externalTransactionId":"BS-1","amount":0}""", false)]
    [InlineData("""{"mode":"ByPaymentNumber","paymentNumber":"002018","paymentMethodId":2,"externalTransactionId":"BS-1","currencyCode":"usd"}""", false)]
    [InlineData("""{"mode":"ById","paymentId":"2162","paymentMethodId":2}""", true)]
    [InlineData("""{"mode":"ById","paymentId":"2162"}""", false)]
    [InlineData("""{"mode":"FromBalance","paymentId":"2162"}""", true)]
    [InlineData("""{"mode":"FromBalance"}""", false)]
    [InlineData("""{"mode":"FromBalance","paymentId":"abc"}""", false)]
    public async Task CompletePayment_requires_the_fields_of_its_mode(string document, bool valid)
    {
        var schema = await JsonSchema.FromFileAsync(ContractFiles.SchemaPath("CompletePayment"), CancellationToken.None);

        Assert.Equal(valid, schema.Validate(document).Count == 0);
    }

    [Theory]
    [InlineData("total", "0")]
    [InlineData("total", "\"10.00\"")]
    [InlineData("comment", "\"\"")]
    [InlineData("accountId", "0")]
    public async Task RegisterPayment_with_a_malformed_field_is_invalid(string property, string value)
    {
        var schema = await JsonSchema.FromFileAsync(ContractFiles.SchemaPath("RegisterPayment"), CancellationToken.None);
        var document = JsonNode.Parse("""{"key":"topup-1","accountId":523,"total":10,"comment":"top-up payment"}""")!.AsObject();
        Assert.Empty(schema.Validate(document.ToJsonString()));

        document[property] = JsonNode.Parse(value);

        Assert.NotEmpty(schema.Validate(document.ToJsonString()));
    }
}
