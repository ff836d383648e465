using System.Net;
using System.Text.Json.Nodes;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Invoices;
using Bridge.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Bridge.Tests.Sandbox;

/// <summary>Invoices with external management as REFERENCE.md §6 documents them: the state machine and the INVOICE-00xx errors.</summary>
public sealed class InvoicesTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private static readonly DateOnly October = new(2026, 10, 1);
    private static int _nextAccount = 90_000;

    private static JsonObject Body(string documentId, string billingDate = "2026-10-01") => new() { ["document_id"] = documentId, ["billing_date"] = billingDate };

    private Task<SandboxInvoice> SeedAsync(decimal total = 987.65m, string paymentModel = "postpay", string status = "closed", string paymentStatus = "waiting_for_payment")
        => Control.SeedInvoiceAsync(
            new SandboxInvoiceSeed
            {
                AccountId = Interlocked.Increment(ref _nextAccount), BillingDate = October, Total = total,
                PaymentModel = paymentModel, Status = status, PaymentStatus = paymentStatus,
            },
            CancellationToken.None);

    private async Task<SandboxInvoice> StateAsync(string id) => Assert.Single(await Control.GetInvoicesAsync(CancellationToken.None), i => i.Id == id);

    private static void AssertInvoiceError(Response response, HttpStatusCode status, string code, string title)
    {
        Assert.Equal(status, response.Status);
        var errors = Assert.IsType<JsonObject>(response.Body!["errors"]);
        Assert.Equal(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)errors["status"]);
        Assert.Equal(code, (string?)errors["code"]);
        Assert.Equal(title, (string?)errors["title"]);
    }

    [Fact]
    public async Task Reseller_1_starts_with_seeded_postpaid_invoices_and_linked_payments()
    {
        var seeded = (await Control.GetInvoicesAsync(CancellationToken.None)).Where(i => i.ResellerId == 1 && i.AccountId is 167 or 523 or 685).ToList();

        Assert.Contains(seeded, i => i is { AccountId: 167, Status: "closed", PaymentModel: "postpay", Approved: false, PaymentStatus: "waiting_for_payment", PaymentDueDate: null });
        Assert.Contains(seeded, i => i is { AccountId: 523, PaymentStatus: "cancelled" });
        Assert.Contains(seeded, i => i is { AccountId: 685, Status: "open" });
    }

    [Fact]
    public async Task Approve_by_account_then_complete_by_id_follows_the_documented_states_and_revoke_is_then_refused()
    {
        var invoice = await SeedAsync();

        var approveBody = Body("NS2000015");
        approveBody["external_total"] = "990.00";
        approveBody["external_currency"] = "EUR";
        approveBody["due_date"] = "2026-11-15";
        var approved = await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/accounts/{invoice.AccountId}/approve_invoices", approveBody);
        Assert.Equal(HttpStatusCode.OK, approved.Status);
        Assert.Equal("invoices", (string?)approved.Body!["data"]!["type"]);
        Assert.Equal(invoice.Id, approved.Id);
        Assert.Equal("true", (string?)approved.Attributes["approved"]);
        Assert.Equal("NS2000015", (string?)approved.Attributes["document_id"]);
        Assert.Equal("postpay", (string?)approved.Attributes["payment_model"]);
        Assert.Equal(invoice.PaymentId, (string?)approved.Body["data"]!["relationships"]!["payments"]!["data"]![0]!["id"]);
        var afterApproval = await StateAsync(invoice.Id);
        Assert.Equal(new DateOnly(2026, 11, 15), afterApproval.PaymentDueDate);
        Assert.Equal("990.0", afterApproval.ExternalTotal);
        Assert.Equal("waiting_for_payment", afterApproval.PaymentStatus);

        var completed = await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/invoices/{invoice.Id}/complete", Body("NS2000015"));
        Assert.Equal(HttpStatusCode.OK, completed.Status);
        Assert.Equal("closed", (string?)completed.Attributes["status"]);
        Assert.Equal("completed", (await StateAsync(invoice.Id)).PaymentStatus);

        var revoke = await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/invoices/{invoice.Id}/revoke", Body("NS2000015"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, revoke.Status);
        Assert.True((await StateAsync(invoice.Id)).Approved);
    }

    [Fact]
    public async Task Revoke_returns_the_invoice_to_unapproved_with_its_own_number_and_no_due_date()
    {
        var invoice = await SeedAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/invoices/{invoice.Id}/approve", Body("ERP-77"))).Status);

        var revoked = await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/invoices/{invoice.Id}/revoke", Body("ERP-77"));

        Assert.Equal(HttpStatusCode.OK, revoked.Status);
        Assert.Equal("false", (string?)revoked.Attributes["approved"]);
        Assert.Equal(invoice.PlatformDocumentId, (string?)revoked.Attributes["document_id"]);
        var state = await StateAsync(invoice.Id);
        Assert.Null(state.PaymentDueDate);
        Assert.Null(state.ApprovalDate);

        // Unapproved again: completing with the ERP's number no longer matches the invoice.
        AssertInvoiceError(
            await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/invoices/{invoice.Id}/complete", Body("ERP-77")),
            HttpStatusCode.BadRequest, "INVOICE-0006", "Incorrect specified document_id for the invoice");
    }

    [Fact]
    public async Task The_documented_invoice_errors_come_in_the_errors_object_with_their_code()
    {
        var closed = await SeedAsync();
        AssertInvoiceError(
            await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/invoices/{closed.Id}/complete", new JsonObject { ["document_id"] = "X" }),
            HttpStatusCode.BadRequest, "INVOICE-0001", "Required parameters are not provided");
        AssertInvoiceError(
            await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/invoices/{closed.Id}/approve", Body("X", "2026-09-01")),
            HttpStatusCode.BadRequest, "INVOICE-0005", "Incorrect specified billing date for the invoice");
        AssertInvoiceError(
            await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/accounts/{closed.AccountId}/complete_invoices", Body("never-approved")),
            HttpStatusCode.BadRequest, "INVOICE-0006", "Incorrect specified document_id for the invoice");

        var prepaid = await SeedAsync(paymentModel: "prepay");
        AssertInvoiceError(
            await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/invoices/{prepaid.Id}/complete", Body("X")),
            HttpStatusCode.BadRequest, "INVOICE-0010", "Only postpaid invoice can be completed");
        var open = await SeedAsync(status: "open");
        AssertInvoiceError(
            await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/invoices/{open.Id}/approve", Body("X")),
            HttpStatusCode.BadRequest, "INVOICE-0011", "Only closed invoice can be completed");
        var zero = await SeedAsync(total: 0m);
        AssertInvoiceError(
            await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/invoices/{zero.Id}/complete", Body("X")),
            HttpStatusCode.BadRequest, "INVOICE-0012", "Only non-zero invoice can be completed");
        var cancelled = await SeedAsync(paymentStatus: "cancelled");
        AssertInvoiceError(
            await SendAsync(HttpMethod.Post, $"api/v3/resellers/1/invoices/{cancelled.Id}/complete", Body("X")),
            HttpStatusCode.BadRequest, "INVOICE-0017", "Payment related to this invoice has been cancelled. Invoice completion is not possible");

        var unknown = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/invoices/99999999/approve", Body("X"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, $"api/v3/resellers/2/invoices/{closed.Id}/approve", Body("X"))).Status);

        // Nothing above changed an invoice.
        Assert.All(await Control.GetInvoicesAsync(CancellationToken.None), i => Assert.False(i.Approved && i.DocumentId == "X"));
    }

    [Fact]
    public async Task The_client_facade_approves_and_completes_over_http_and_refusals_carry_the_invoice_code()
    {
        await using var standalone = ActivePlatformClientFactory.Create(new ActivePlatformOptions
        {
            BaseUrl = Fixture.Sandbox.BaseAddress,
            ApiToken = SandboxSettings.DefaultToken,
            ResellerId = 1,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        });
        var client = standalone.Services.GetRequiredService<IInvoicesClient>();
        var invoice = await SeedAsync();

        var approved = await client.ApproveInvoiceAsync(
            1, InvoiceTarget.ByAccount(invoice.AccountId),
            new InvoiceApproval { DocumentId = "NS-facade", BillingDate = October, ExternalTotal = 1000m, ExternalCurrency = "USD", DueDate = new DateOnly(2026, 11, 30) },
            CancellationToken.None);
        Assert.Equal(invoice.Id, approved.Id);
        Assert.True(approved.Attributes.Approved);
        Assert.Equal("NS-facade", approved.Attributes.DocumentId);
        Assert.Equal(987.65m, approved.Attributes.Total);
        Assert.Equal(invoice.PaymentId, approved.PaymentId);
        Assert.Equal("1000.0", (await StateAsync(invoice.Id)).ExternalTotal);

        var completed = await client.CompleteInvoiceAsync(1, InvoiceTarget.ById(invoice.Id), "NS-facade", October, CancellationToken.None);
        Assert.Equal(invoice.Id, completed.Id);

        var cancelled = await SeedAsync(paymentStatus: "cancelled");
        var refused = await Assert.ThrowsAsync<ActivePlatformPermanentException>(
            () => client.CompleteInvoiceAsync(1, InvoiceTarget.ById(cancelled.Id), "NS-x", October, CancellationToken.None));
        Assert.Equal(400, refused.Status);
        Assert.Equal("INVOICE-0017", refused.Code);
    }
}
