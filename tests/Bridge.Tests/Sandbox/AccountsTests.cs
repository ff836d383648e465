using System.Net;
using System.Text.Json.Nodes;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using Xunit;

namespace Bridge.Tests.Sandbox;

/// <summary>
/// The sandbox knows its accounts: every endpoint that names an account refuses one its reseller does not own (unknown, or
/// another reseller's — reseller 2 is downstream of 1, yet its account is not 1's), as ActivePlatform would (inferred: 404 for
/// an account in the path, 422 "Account must exist" for one in a body), and the refusal changes nothing.
/// </summary>
public sealed class AccountsTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private const string Reseller1 = "api/v3/resellers/1";

    private static JsonObject Attributes(JsonObject attributes) => new() { ["data"] = new JsonObject { ["attributes"] = attributes } };

    public static TheoryData<long> NotReseller1s => new() { TestAccounts.Unknown, TestAccounts.OfReseller2 };

    private static void AssertError(Response response, HttpStatusCode status, string title)
    {
        Assert.Equal(status, response.Status);
        Assert.Equal(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)response.Body!["errors"]!["status"]);
        Assert.StartsWith(title, response.ErrorTitle, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NotReseller1s))]
    public async Task Closing_document_endpoints_answer_404_for_an_account_the_reseller_does_not_own(long account)
    {
        var documents = $"{Reseller1}/accounts/{account}/external_invoices";
        var key = NewKey();

        AssertError(await SendAsync(HttpMethod.Post, documents, ClosingDocument(key)), HttpStatusCode.NotFound, "Account not found");
        AssertError(await SendAsync(HttpMethod.Get, $"{documents}?filter[key]={key}"), HttpStatusCode.NotFound, "Account not found");
        AssertError(await SendAsync(HttpMethod.Patch, $"{documents}/1", ClosingDocument(key)), HttpStatusCode.NotFound, "Account not found");
        AssertError(await SendAsync(HttpMethod.Delete, $"{documents}/1"), HttpStatusCode.NotFound, "Account not found");

        Assert.Empty(await Control.GetExternalInvoicesAsync(CancellationToken.None));
        Assert.Empty(await Control.GetEffectsAsync(null, null, CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(NotReseller1s))]
    public async Task Invoice_actions_by_account_answer_404_for_an_account_the_reseller_does_not_own(long account)
    {
        var body = new JsonObject { ["document_id"] = "NS-1", ["billing_date"] = "2026-10-01" };

        AssertError(await SendAsync(HttpMethod.Post, $"{Reseller1}/accounts/{account}/approve_invoices", body), HttpStatusCode.NotFound, "Account not found");
        AssertError(await SendAsync(HttpMethod.Post, $"{Reseller1}/accounts/{account}/complete_invoices", body.DeepClone()), HttpStatusCode.NotFound, "Account not found");
        Assert.Empty(await Control.GetEffectsAsync(null, null, CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(NotReseller1s))]
    public async Task Top_ups_corrections_and_notifications_answer_422_for_an_account_the_reseller_does_not_own(long account)
    {
        var topUp = await SendAsync(HttpMethod.Post, $"{Reseller1}/payments", Attributes(new JsonObject { ["account_id"] = account, ["total"] = 10, ["comment"] = "top-up payment" }));
        var correction = await SendAsync(HttpMethod.Post, $"{Reseller1}/corrections", Attributes(new JsonObject
        {
            ["account_id"] = account, ["included_invoice"] = false, ["total"] = "10.00", ["comment"] = "c",
        }));
        var notifications = await SendAsync(HttpMethod.Post, $"{Reseller1}/notifications/external_invoices", new JsonObject
        {
            ["account_ids"] = new JsonArray(505, account), ["start_date"] = "2026-10-01", ["end_date"] = "2026-10-31",
        });

        AssertError(topUp, HttpStatusCode.UnprocessableEntity, "Account must exist");
        AssertError(correction, HttpStatusCode.UnprocessableEntity, "Account must exist");
        AssertError(notifications, HttpStatusCode.UnprocessableEntity, "Account must exist");
        Assert.Contains(account.ToString(System.Globalization.CultureInfo.InvariantCulture), notifications.ErrorTitle, StringComparison.Ordinal);
        Assert.Empty(await Control.GetEffectsAsync(null, null, CancellationToken.None));
        Assert.Empty(await Control.GetNotificationsAsync(CancellationToken.None));
        Assert.DoesNotContain(await Control.GetPaymentsAsync(null, null, CancellationToken.None), p => p.AccountId == account);
    }

    [Fact]
    public async Task The_account_of_a_downstream_reseller_is_written_through_that_resellers_own_path()
    {
        using var child = Fixture.Sandbox.CreateClient(SandboxFixture.ChildToken);

        var created = await SendAsync(child, HttpMethod.Post, $"api/v3/resellers/2/accounts/{TestAccounts.OfReseller2}/external_invoices", ClosingDocument(NewKey()));

        Assert.Equal(HttpStatusCode.Created, created.Status);
    }

    [Fact]
    public async Task An_account_registered_through_the_control_api_is_then_written_to_and_another_resellers_account_cannot_be_registered()
    {
        var account = 20_000_000 + Random.Shared.Next(1_000_000);
        var documents = $"{Reseller1}/accounts/{account}/external_invoices";
        AssertError(await SendAsync(HttpMethod.Post, documents, ClosingDocument(NewKey())), HttpStatusCode.NotFound, "Account not found");

        await Control.RegisterAccountAsync(account, 1, CancellationToken.None);
        await Control.RegisterAccountAsync(account, 1, CancellationToken.None);

        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, documents, ClosingDocument(NewKey()))).Status);
        var taken = await Assert.ThrowsAsync<HttpRequestException>(() => Control.RegisterAccountAsync(account, 2, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        var seeded = await Assert.ThrowsAsync<HttpRequestException>(() => Control.RegisterAccountAsync(TestAccounts.OfReseller2, 1, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Conflict, seeded.StatusCode);
    }

    [Fact]
    public async Task Seeding_a_payment_or_an_invoice_registers_its_account_and_refuses_another_resellers()
    {
        var account = 30_000_000 + Random.Shared.Next(1_000_000);

        await Control.AddPaymentAsync(new SandboxPaymentSeed { ResellerId = 2, AccountId = account }, CancellationToken.None);

        using var child = Fixture.Sandbox.CreateClient(SandboxFixture.ChildToken);
        var topUp = await SendAsync(child, HttpMethod.Post, "api/v3/resellers/2/payments", Attributes(new JsonObject { ["account_id"] = account, ["total"] = 10, ["comment"] = "top-up payment" }));
        Assert.Equal(HttpStatusCode.Created, topUp.Status);
        await Assert.ThrowsAsync<HttpRequestException>(() => Control.SeedInvoiceAsync(
            new SandboxInvoiceSeed { ResellerId = 1, AccountId = account, BillingDate = new DateOnly(2026, 10, 1) }, CancellationToken.None));
    }

    [Fact]
    public async Task The_default_sandbox_owns_the_accounts_the_demo_chaos_and_benchmark_use_and_refuses_others()
    {
        await using var sandbox = await SandboxServer.StartAsync(new SandboxSettings(), CancellationToken.None);
        using var api = sandbox.CreateClient();

        // The demo's 505, 167, 523 and 685, the benchmark's and chaos suite's 7001–7100, 8001 and 80 000 + n: reseller 1's 1–99 999.
        foreach (var account in new long[] { 505, 167, 523, 685, 7001, 7100, 8001, 80_123, 99_999 })
        {
            Assert.Equal(HttpStatusCode.Created, (await SendAsync(api, HttpMethod.Post, $"{Reseller1}/accounts/{account}/external_invoices", ClosingDocument(NewKey()))).Status);
        }

        foreach (var account in new long[] { 100_000, 200_167, TestAccounts.Unknown, 2_000_000, 9_700_001 })
        {
            AssertError(await SendAsync(api, HttpMethod.Post, $"{Reseller1}/accounts/{account}/external_invoices", ClosingDocument(NewKey())), HttpStatusCode.NotFound, "Account not found");
        }
    }

    [Fact]
    public async Task Account_ranges_of_two_resellers_may_not_overlap()
    {
        var settings = new SandboxSettings { Accounts = [new() { ResellerId = 1, From = 200_500, To = 200_600 }] };

        await Assert.ThrowsAsync<ArgumentException>(() => SandboxServer.StartAsync(settings, CancellationToken.None));
    }
}
