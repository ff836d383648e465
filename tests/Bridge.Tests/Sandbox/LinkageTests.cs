using System.Net;
using System.Text.Json.Nodes;
using Bridge.Sandbox;
using Xunit;

namespace Bridge.Tests.Sandbox;

/// <summary>
/// How invoices, their payments and corrections act on each other, as REFERENCE.md documents it (§2.5, §4, §6): a postpaid
/// invoice's payment has no due date and cannot be paid until the invoice is approved; approval gives it the due date and the
/// third-party amount, revoke takes them away, completion completes it; a correction ActivePlatform makes while completing a
/// payment by number is a correction like any other, approved through <c>PATCH corrections/{id}</c>.
/// </summary>
public sealed class LinkageTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private const string Reseller1 = "api/v3/resellers/1";
    private static int _nextAccount = 95_000;

    private static JsonObject Attributes(JsonObject attributes) => new() { ["data"] = new JsonObject { ["attributes"] = attributes } };

    private static JsonObject InvoiceBody(string documentId) => new() { ["document_id"] = documentId, ["billing_date"] = "2026-10-01" };

    private async Task<(SandboxInvoice Invoice, SandboxPayment Payment)> SeedLinkedAsync()
    {
        var invoice = await Control.SeedInvoiceAsync(
            new SandboxInvoiceSeed { AccountId = Interlocked.Increment(ref _nextAccount), BillingDate = new DateOnly(2026, 10, 1), Total = 250m, LinkedPayment = true },
            CancellationToken.None);
        return (invoice, Assert.Single(await Control.GetPaymentsAsync(null, invoice.PaymentId, CancellationToken.None)));
    }

    private Task<Response> PaymentAsync(string id) => SendAsync(HttpMethod.Get, $"{Reseller1}/payments/{id}");

    [Fact]
    public async Task The_payment_of_an_unapproved_invoice_has_no_due_date_and_cannot_be_paid_by_id_from_balance_or_by_number()
    {
        var (_, payment) = await SeedLinkedAsync();

        var byId = await SendAsync(HttpMethod.Patch, $"{Reseller1}/payments/{payment.Id}", Attributes(new JsonObject { ["payment_method_id"] = 2 }));
        var fromBalance = await SendAsync(HttpMethod.Patch, $"{Reseller1}/payments/{payment.Id}", Attributes(new JsonObject { ["status"] = "paid_from_balance" }));
        var byNumber = await SendAsync(HttpMethod.Post, $"{Reseller1}/payments/{payment.Number}", Attributes(new JsonObject { ["payment_method_id"] = 2, ["amount"] = 250 }));

        foreach (var refused in new[] { byId, fromBalance, byNumber })
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
            Assert.Equal("A payment linked to an invoice that is not approved has no due date and cannot be paid.", refused.ErrorTitle);
        }

        var read = await PaymentAsync(payment.Id);
        Assert.Equal("waiting_for_payment", (string?)read.Attributes["status"]);
        Assert.Null(read.Attributes["due_date"]);
        Assert.Empty(await Control.GetEffectsAsync("payment.", null, CancellationToken.None));
        Assert.Empty(await Control.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Approval_gives_the_payment_its_due_date_and_third_party_amount_revoke_takes_them_away_and_completion_completes_it()
    {
        var (invoice, payment) = await SeedLinkedAsync();
        var approve = InvoiceBody("ERP-1");
        approve["due_date"] = "2026-11-15";
        approve["external_total"] = "990.10";
        approve["external_currency"] = "EUR";

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, $"{Reseller1}/invoices/{invoice.Id}/approve", approve)).Status);
        var approved = await PaymentAsync(payment.Id);
        Assert.Equal("2026-11-15", (string?)approved.Attributes["due_date"]);
        Assert.Equal("990.1", (string?)approved.Attributes["external_total"]);
        Assert.Equal("EUR", (string?)approved.Attributes["external_currency"]);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, $"{Reseller1}/invoices/{invoice.Id}/revoke", InvoiceBody("ERP-1"))).Status);
        var revoked = await PaymentAsync(payment.Id);
        Assert.Null(revoked.Attributes["due_date"]);
        Assert.Null(revoked.Attributes["external_total"]);
        Assert.Null(revoked.Attributes["external_currency"]);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await SendAsync(HttpMethod.Patch, $"{Reseller1}/payments/{payment.Id}", Attributes(new JsonObject { ["payment_method_id"] = 2 }))).Status);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, $"{Reseller1}/invoices/{invoice.Id}/approve", InvoiceBody("ERP-2"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, $"{Reseller1}/invoices/{invoice.Id}/complete", InvoiceBody("ERP-2"))).Status);
        var completed = await PaymentAsync(payment.Id);
        Assert.Equal("completed", (string?)completed.Attributes["status"]);
        Assert.NotNull((string?)completed.Attributes["closed_at"]);
        Assert.NotNull((string?)completed.Attributes["due_date"]);
    }

    [Fact]
    public async Task Once_its_invoice_is_approved_the_payment_can_be_paid_by_id_and_the_invoice_then_shows_it_completed()
    {
        var (invoice, payment) = await SeedLinkedAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, $"{Reseller1}/invoices/{invoice.Id}/approve", InvoiceBody("ERP-3"))).Status);

        var paid = await SendAsync(HttpMethod.Patch, $"{Reseller1}/payments/{payment.Id}", Attributes(new JsonObject { ["payment_method_id"] = 2 }));

        Assert.Equal(HttpStatusCode.OK, paid.Status);
        Assert.Equal("completed", Assert.Single(await Control.GetInvoicesAsync(CancellationToken.None), i => i.Id == invoice.Id).PaymentStatus);
    }

    [Fact]
    public async Task A_correction_made_by_completing_a_payment_by_number_is_approved_through_PATCH_corrections_and_the_payment_shows_it_approved()
    {
        var payment = await Control.AddPaymentAsync(new SandboxPaymentSeed { Total = 100m }, CancellationToken.None);
        var over = await SendAsync(HttpMethod.Post, $"{Reseller1}/payments/{payment.Number}", Attributes(new JsonObject { ["payment_method_id"] = 2, ["amount"] = 130 }));
        Assert.Equal(HttpStatusCode.OK, over.Status);
        var correction = Assert.Single(await Control.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None));
        Assert.Equal("approval_required", correction.Status);

        var approved = await SendAsync(HttpMethod.Patch, $"{Reseller1}/corrections/{correction.Id}", Attributes(new JsonObject { ["status"] = "approved" }));

        Assert.Equal(HttpStatusCode.OK, approved.Status);
        Assert.Equal("approved", (string?)approved.Attributes["status"]);
        Assert.Equal("30.0", (string?)approved.Attributes["total"]);
        Assert.Equal(correction.Comment, (string?)approved.Attributes["comment"]);
        var read = await SendAsync(HttpMethod.Get, $"{Reseller1}/payments/{payment.Id}?include=corrections");
        var included = Assert.Single(read.Body!["included"]!.AsArray());
        Assert.Equal(correction.Id, (string?)included!["id"]);
        Assert.Equal("approved", (string?)included["attributes"]!["status"]);
        Assert.Equal("approved", Assert.Single(await Control.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None)).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await SendAsync(HttpMethod.Patch, $"{Reseller1}/corrections/{correction.Id}", Attributes(new JsonObject { ["status"] = "declined" }))).Status);
    }
}
