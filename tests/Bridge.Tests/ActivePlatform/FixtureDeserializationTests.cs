using System.Text.Json;
using Bridge.ActivePlatform.Json;
using Bridge.ActivePlatform.Models;
using Xunit;

namespace Bridge.Tests.ActivePlatform;

public sealed class FixtureDeserializationTests
{
    private static JsonApiDocument<Account> ReadAccount() =>
        JsonSerializer.Deserialize(Fixtures.Read("child-reseller-account.json"), ActivePlatformJsonContext.Default.JsonApiDocumentAccount)!;

    private static JsonApiDocument<Subscription> ReadSubscriptions() =>
        JsonSerializer.Deserialize(Fixtures.Read("subscriptions-page.json"), ActivePlatformJsonContext.Default.JsonApiDocumentSubscription)!;

    [Fact]
    public void Child_reseller_account_fixture_is_captured_without_losing_a_field()
    {
        var document = ReadAccount();

        Assert.Empty(ExtensionDataInspector.Uncaptured(document));
        var account = Assert.Single(document.Items);
        Assert.Equal("167", account.Id);
        Assert.Equal("accounts", account.Type);
    }

    [Fact]
    public void Child_reseller_account_fixture_values_are_typed()
    {
        var a = Assert.Single(ReadAccount().Items).Attributes;

        Assert.Equal(new DateTimeOffset(2017, 8, 16, 12, 48, 21, 629, TimeSpan.FromHours(3)), a.CreatedAt);
        Assert.Equal(1, a.ResellerId);
        Assert.Equal("John New", a.Name);
        Assert.Equal("BY", a.Country);
        Assert.Equal(123423.0m, a.Balance);
        Assert.Equal(0m, a.CurrentDebt);
        Assert.Equal(100m, a.FinancialBlockingThreshold);
        Assert.Equal(447, a.OwnerId);
        Assert.Equal("03.08.2017", a.CustomAttributes!["birth_date"]);
        Assert.Equal(7, a.CustomAttributes.Count);
        Assert.Equal(50, a.Manager!.Id);
        Assert.Equal("sales", a.Manager.Role);
        Assert.Equal("1", a.Manager.CustomAttributes!["manager_attribute"]);
        Assert.Equal("kristoffer.haag@example.com", a.Owner!.Email);
        Assert.Empty(a.AccountProductManagers!);
        Assert.False(a.SelfRegistration);
        Assert.Equal("prepay", a.DefaultPaymentModel);
        Assert.Equal("personalblr", a.AccountType!.Key);
        Assert.Null(a.AccountType.Ancestry);
        Assert.False(a.AccountType.UseByDefault);
        Assert.Equal(100.0m, a.AccountClass!.FinancialBlockingThreshold);
        Assert.Equal(90, a.AccountClass.DueOrderPeriod);
        Assert.Null(a.AccountClass.ReceiptDay);
        Assert.False(a.AccountClass.Default);
        Assert.Equal(1000m, a.AccountClass.GuaranteedPaymentLimit);

        var relationship = ReadAccount().Items[0].Relationships!["subscriptions"];
        var linked = Assert.Single(relationship.Data!);
        Assert.Equal("3002319", linked.Id);
        Assert.Equal("subscriptions", linked.Type);
    }

    [Fact]
    public void Subscriptions_page_fixture_is_captured_without_losing_a_field()
    {
        var document = ReadSubscriptions();

        Assert.Empty(ExtensionDataInspector.Uncaptured(document));
        Assert.Equal(2, document.Items.Count);
        Assert.Equal(
            ["accounts", "subscription_resources", "subscription_periods", "plans", "accounts", "subscription_resources", "subscription_periods", "plans"],
            document.Included!.Select(i => i.Type));
        Assert.IsType<Account>(document.Included![0]);
        Assert.IsType<SubscriptionResource>(document.Included[1]);
        Assert.IsType<SubscriptionPeriod>(document.Included[2]);
        Assert.IsType<Plan>(document.Included[3]);
    }

    [Fact]
    public void Subscriptions_page_fixture_values_are_typed()
    {
        var document = ReadSubscriptions();
        var first = document.Items[0];
        var second = document.Items[1];

        Assert.Equal("3007095", first.Id);
        Assert.Equal(1200, first.Attributes.PlanId);
        Assert.Equal(523, first.Attributes.AccountId);
        Assert.Equal(new DateOnly(2020, 8, 5), first.Attributes.StartDate);
        Assert.Equal(new DateOnly(2020, 9, 5), first.Attributes.ExpirationDate);
        Assert.Null(first.Attributes.PromoCode);
        Assert.Null(first.Attributes.PaymentModelParameters!.CreditLimit);
        Assert.False(first.Attributes.RenewalSettings!.Autorenew);
        Assert.Equal(-1, second.Attributes.RenewalSettings!.ManualRenewPoint);
        Assert.Equal("523", Assert.Single(first.Relationships!["account"].Data!).Id);
        Assert.Equal("34847", Assert.Single(first.Relationships["subscription_resources"].Data!).Id);
        var application = Assert.Single(first.Meta!.Applications!);
        Assert.Equal("new1", application["customer_id"].GetString());
        Assert.Equal(6, application.Count);
        Assert.Empty(second.Meta!.Applications!);

        var account = (Account)document.Included![0];
        Assert.Equal(9066.03m, account.Attributes.Balance);
        Assert.Equal(9051.33m, account.Attributes.UsableBalance);
        Assert.Equal(8800m, account.Attributes.SubscriptionCreditLimit);
        Assert.Null(account.Attributes.Manager);
        Assert.Null(account.Attributes.ManagerId);
        Assert.Equal("Юридическое лицо", account.Attributes.AccountType!.Name);
        Assert.Equal("1600", account.Attributes.AccountType.Ancestry);
        Assert.Equal(8800.0m, account.Attributes.AccountClass!.SubscriptionCreditLimit);
        Assert.Equal(107.68m, ((Account)document.Included[4]).Attributes.CurrentDebt);
        Assert.Null(((Account)document.Included[4]).Attributes.Owner!.MiddleName);

        var resource = (SubscriptionResource)document.Included[1];
        Assert.Equal(750m, resource.Attributes.Limit);
        Assert.Equal(2m, resource.Attributes.Additional);
        Assert.Null(resource.Attributes.Measurable);
        Assert.Equal(string.Empty, resource.Attributes.CustomAttributes!["item_1c_id"]);

        var period = (SubscriptionPeriod)document.Included[2];
        Assert.Equal("month", period.Attributes.DurationType);
        Assert.False(period.Attributes.Endless);

        var plan = (Plan)document.Included[3];
        Assert.Equal("G Suite Business", plan.Attributes.Name);
        Assert.Equal("RUB", plan.Attributes.PlanCurrency);
        Assert.Equal(750m, Assert.Single(plan.Attributes.PlanResources!.Items).Attributes.Limit);
        Assert.Equal(2, plan.Attributes.PlanPeriods!.Items.Count);
        Assert.Null(plan.Attributes.PlanPeriods.Items[1].Attributes.DurationValue);
        Assert.Equal(2, plan.Attributes.AvailableAccountTypes!.Count);
        Assert.False(((Plan)document.Included[7]).Attributes.PlanResources!.Items[0].Attributes.Measurable);

        Assert.EndsWith("page%5Bnumber%5D=2611&page%5Bsize%5D=2", document.Links!.Next, StringComparison.Ordinal);
        Assert.NotNull(document.Links.Last);
    }

    [Fact]
    public void A_field_the_model_does_not_name_is_reported_not_dropped()
    {
        // Proves the inspector can fail: an extra attribute must show up in the catch-all.
        const string json = """{"data":{"id":"1","type":"accounts","attributes":{"name":"x","brand_new_field":42}},"included":[{"id":"9","type":"widgets"}]}""";
        var document = JsonSerializer.Deserialize(json, ActivePlatformJsonContext.Default.JsonApiDocumentAccount)!;

        var uncaptured = ExtensionDataInspector.Uncaptured(document);

        Assert.Contains(uncaptured, u => u.EndsWith(".brand_new_field", StringComparison.Ordinal));
        Assert.Contains(uncaptured, u => u.Contains("'widgets'", StringComparison.Ordinal));
    }
}
