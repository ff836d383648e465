using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using Xunit;

namespace Bridge.Tests.Sandbox;

public sealed partial class PaymentsTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private const string Payments = "api/v3/resellers/1/payments";

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{4}$")]
    private static partial Regex MicrosecondTimestamp();

    private static JsonObject Attributes(JsonObject attributes) => new() { ["data"] = new JsonObject { ["attributes"] = attributes } };

    private Task<SandboxPayment> SeedAsync(string status = "waiting_for_payment", decimal total = 100m, bool topUp = false, string? linkedInvoiceId = null)
        => Control.AddPaymentAsync(new SandboxPaymentSeed { Status = status, Total = total, TopUp = topUp, LinkedInvoiceId = linkedInvoiceId }, CancellationToken.None);

    private Task<Response> CompleteByNumberAsync(string number, JsonObject attributes) => SendAsync(HttpMethod.Post, $"{Payments}/{number}", Attributes(attributes));

    [Fact]
    public async Task Seeded_payment_reads_in_the_documented_shape()
    {
        var seeded = Assert.Single(await Control.GetPaymentsAsync("002018", null, CancellationToken.None));

        var payment = await SendAsync(HttpMethod.Get, $"{Payments}/{seeded.Id}");

        Assert.Equal(HttpStatusCode.OK, payment.Status);
        Assert.Equal("application/vnd.api+json", payment.MediaType);
        Assert.Equal(seeded.Id, payment.Id);
        Assert.Equal("payments", (string?)payment.Body!["data"]!["type"]);
        Assert.Equal("completed", (string?)payment.Attributes["status"]);
        Assert.Equal("199.99", (string?)payment.Attributes["total"]);
        Assert.Equal("0.0", (string?)payment.Attributes["discount_amount"]);
        Assert.Equal("002018", (string?)payment.Attributes["document_id"]);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, JsonValueKind(payment.Attributes["account_id"]));
        Assert.Matches(MicrosecondTimestamp(), (string?)payment.Attributes["created_at"]);
        Assert.Matches(MicrosecondTimestamp(), (string?)payment.Attributes["closed_at"]);
        Assert.Equal("Cash", (string?)payment.Attributes["payment_method_name"]);
        Assert.Equal("payment_methods", (string?)payment.Body!["data"]!["relationships"]!["payment_method"]!["data"]!["type"]);

        var seededStatuses = (await Control.GetPaymentsAsync(null, null, CancellationToken.None)).Select(p => p.Status).ToHashSet();
        Assert.Superset(new HashSet<string> { "waiting_for_payment", "expired", "completed" }, seededStatuses);
        Assert.Contains(await Control.GetPaymentsAsync(null, null, CancellationToken.None), p => p.LinkedInvoiceId is not null);
    }

    private static System.Text.Json.JsonValueKind JsonValueKind(JsonNode? node) => node!.GetValueKind();

    [Fact]
    public async Task Payments_are_numbered_from_the_configured_first_id_and_test_sandboxes_each_start_elsewhere()
    {
        await using var configured = await SandboxServer.StartAsync(new SandboxSettings { FirstPaymentId = 70_001 }, CancellationToken.None);
        await using var one = await SandboxServer.StartAsync(new SandboxSettings().WithTestAccounts(), CancellationToken.None);
        await using var other = await SandboxServer.StartAsync(new SandboxSettings().WithTestAccounts(), CancellationToken.None);
        var seed = new SandboxPaymentSeed { Total = 10m };

        var first = await configured.Control.AddPaymentAsync(seed, CancellationToken.None);
        var second = await configured.Control.AddPaymentAsync(seed, CancellationToken.None);
        var inOne = await one.Control.AddPaymentAsync(seed, CancellationToken.None);
        var inOther = await other.Control.AddPaymentAsync(seed, CancellationToken.None);

        Assert.Equal(("70001", "070001", "70002"), (first.Id, first.Number, second.Id));
        Assert.Single(await configured.Control.GetPaymentsAsync("002018", null, CancellationToken.None));
        Assert.NotEqual(inOne.Number, inOther.Number);
    }

    [Fact]
    public async Task A_top_up_payment_is_created_waiting_for_payment_and_comment_is_required()
    {
        var created = await SendAsync(HttpMethod.Post, Payments, Attributes(new JsonObject
        {
            ["account_id"] = 505, ["total"] = 199.99, ["comment"] = "top-up payment", ["purpose"] = "prepay payment",
        }));

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("waiting_for_payment", (string?)created.Attributes["status"]);
        Assert.Equal("199.99", (string?)created.Attributes["total"]);
        Assert.Equal("199.99", (string?)created.Attributes["initial_total"]);
        Assert.Equal("USD", (string?)created.Attributes["currency_code"]);
        Assert.Equal("prepay payment", (string?)created.Attributes["purpose"]);
        Assert.False(string.IsNullOrEmpty((string?)created.Attributes["document_id"]));
        Assert.Equal(created.Id, (await SendAsync(HttpMethod.Get, $"{Payments}/{created.Id}")).Id);

        var noComment = await SendAsync(HttpMethod.Post, Payments, Attributes(new JsonObject { ["account_id"] = 505, ["total"] = 10 }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noComment.Status);
        Assert.Equal("param is missing or the value is empty: comment", noComment.ErrorTitle);
        Assert.Equal("422", (string?)noComment.Body!["errors"]!["status"]);
    }

    [Fact]
    public async Task Only_a_waiting_unlinked_payment_can_be_cancelled_with_the_documented_titles()
    {
        var waiting = await SeedAsync();
        var completed = await SeedAsync("completed");
        var linked = await SeedAsync(linkedInvoiceId: "12201");

        var cancelled = await SendAsync(HttpMethod.Delete, $"{Payments}/{waiting.Id}");
        Assert.Equal(HttpStatusCode.OK, cancelled.Status);
        Assert.Equal("cancelled", (string?)cancelled.Attributes["status"]);
        Assert.Matches(MicrosecondTimestamp(), (string?)cancelled.Attributes["closed_at"]);

        var again = await SendAsync(HttpMethod.Delete, $"{Payments}/{waiting.Id}");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, again.Status);
        Assert.Equal("Only payments with \"waiting for payment\" status can be cancelled.", again.ErrorTitle);

        var refused = await SendAsync(HttpMethod.Delete, $"{Payments}/{completed.Id}");
        Assert.Equal("Only payments with \"waiting for payment\" status can be cancelled.", refused.ErrorTitle);

        var linkedRefused = await SendAsync(HttpMethod.Delete, $"{Payments}/{linked.Id}");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, linkedRefused.Status);
        Assert.StartsWith("Only payments for prepa", linkedRefused.ErrorTitle);
        Assert.Equal("waiting_for_payment", Assert.Single(await Control.GetPaymentsAsync(null, linked.Id, CancellationToken.None)).Status);

        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, $"{Payments}/999999")).Status);
    }

    [Fact]
    public async Task Patch_completes_by_id_from_waiting_or_expired_and_pays_from_balance_only_from_waiting_and_not_top_ups()
    {
        var expired = await SeedAsync("expired");
        var completed = await SendAsync(HttpMethod.Patch, $"{Payments}/{expired.Id}", Attributes(new JsonObject { ["payment_method_id"] = 2 }));
        Assert.Equal(HttpStatusCode.OK, completed.Status);
        Assert.Equal("completed", (string?)completed.Attributes["status"]);
        Assert.Equal("Cash", (string?)completed.Attributes["payment_method_name"]);
        Assert.Equal(2, (int?)completed.Attributes["payment_method_id"]);

        var twice = await SendAsync(HttpMethod.Patch, $"{Payments}/{expired.Id}", Attributes(new JsonObject { ["payment_method_id"] = 2 }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, twice.Status);

        var waiting = await SeedAsync();
        var fromBalance = await SendAsync(HttpMethod.Patch, $"{Payments}/{waiting.Id}", Attributes(new JsonObject { ["status"] = "paid_from_balance" }));
        Assert.Equal("paid_from_balance", (string?)fromBalance.Attributes["status"]);

        var topUp = await SeedAsync(topUp: true);
        var refused = await SendAsync(HttpMethod.Patch, $"{Payments}/{topUp.Id}", Attributes(new JsonObject { ["status"] = "paid_from_balance" }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        Assert.Equal("waiting_for_payment", Assert.Single(await Control.GetPaymentsAsync(null, topUp.Id, CancellationToken.None)).Status);

        var expiredAgain = await SeedAsync("expired");
        var notFromExpired = await SendAsync(HttpMethod.Patch, $"{Payments}/{expiredAgain.Id}", Attributes(new JsonObject { ["status"] = "paid_from_balance" }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notFromExpired.Status);
    }

    [Fact]
    public async Task Completion_by_number_follows_the_documented_matrix()
    {
        var full = await SeedAsync(total: 100m);
        var over = await SeedAsync(total: 100m);
        var partial = await SeedAsync(total: 100m);
        var closed = await SeedAsync("completed", total: 100m);

        var fullAnswer = await CompleteByNumberAsync(full.Number, new JsonObject { ["payment_method_id"] = "2", ["amount"] = 100, ["currency_code"] = "USD", ["external_transaction_id"] = "BS-1" });
        var overAnswer = await CompleteByNumberAsync(over.Number, new JsonObject { ["payment_method_id"] = 2, ["amount"] = 130.5, ["external_transaction_id"] = "BS-2" });
        var partialAnswer = await CompleteByNumberAsync(partial.Number, new JsonObject { ["payment_method_id"] = 2, ["amount"] = 40, ["external_transaction_id"] = "BS-3" });
        var closedAnswer = await CompleteByNumberAsync(closed.Number, new JsonObject { ["payment_method_id"] = 2, ["external_transaction_id"] = "BS-4" });

        Assert.Equal(HttpStatusCode.OK, fullAnswer.Status);
        Assert.Equal("completed", (string?)fullAnswer.Attributes["status"]);
        Assert.Empty(await Control.GetPaymentCorrectionsAsync(full.Id, CancellationToken.None));
        Assert.Equal(["BS-1"], Assert.Single(await Control.GetPaymentsAsync(null, full.Id, CancellationToken.None)).ExternalTransactionIds);

        Assert.Equal("completed", (string?)overAnswer.Attributes["status"]);
        var excess = Assert.Single(await Control.GetPaymentCorrectionsAsync(over.Id, CancellationToken.None));
        Assert.Equal("30.5", excess.Total);
        Assert.Equal($"Accounting of the amount received on the basis of {over.Number} from an external system.", excess.Comment);
        Assert.Equal(excess.Id, (string?)overAnswer.Body!["data"]!["relationships"]!["corrections"]!["data"]![0]!["id"]);

        Assert.Equal("waiting_for_payment", (string?)partialAnswer.Attributes["status"]);
        Assert.Equal("40.0", Assert.Single(await Control.GetPaymentCorrectionsAsync(partial.Id, CancellationToken.None)).Total);

        Assert.Equal("completed", (string?)closedAnswer.Attributes["status"]);
        Assert.Equal("100.0", Assert.Single(await Control.GetPaymentCorrectionsAsync(closed.Id, CancellationToken.None)).Total);
        Assert.Equal(["BS-4"], Assert.Single(await Control.GetPaymentsAsync(null, closed.Id, CancellationToken.None)).ExternalTransactionIds);
    }

    [Fact]
    public async Task A_manager_changes_a_payment_by_hand_right_after_a_faulted_call_or_directly_and_no_API_effect_is_recorded()
    {
        var lost = await SeedAsync(total: 100m);
        var failed = await SeedAsync(total: 100m);
        var direct = await SeedAsync(total: 100m);
        await Control.SetFaultsAsync(
            [
                new FaultRule { Method = "POST", PathContains = $"/payments/{lost.Number}", LoseAnswerNext = 1, ThenByHand = new SandboxHandChange { PaymentId = lost.Id, CorrectionTotal = 12.5m } },
                new FaultRule { Method = "POST", PathContains = $"/payments/{failed.Number}", FailNext = 1, ErrorStatus = 502, ThenByHand = new SandboxHandChange { PaymentId = failed.Id, CorrectionTotal = 20m } },
            ],
            CancellationToken.None);

        var lostAnswer = await CompleteByNumberAsync(lost.Number, new JsonObject { ["payment_method_id"] = 2, ["amount"] = 30, ["external_transaction_id"] = "BS-L" });
        var failedAnswer = await CompleteByNumberAsync(failed.Number, new JsonObject { ["payment_method_id"] = 2, ["amount"] = 100, ["external_transaction_id"] = "BS-F" });
        var lostRead = await SendAsync(HttpMethod.Get, $"{Payments}/{lost.Id}?include=corrections");

        // The lost line applied, then the manager entered a correction; the failed line applied nothing, the manager's correction is there.
        Assert.Equal((HttpStatusCode.BadGateway, HttpStatusCode.BadGateway), (lostAnswer.Status, failedAnswer.Status));
        Assert.Equal(
            [("30.0", $"Accounting of the amount received on the basis of {lost.Number} from an external system."), ("12.5", SandboxHandChange.CorrectionComment)],
            (await Control.GetPaymentCorrectionsAsync(lost.Id, CancellationToken.None)).Select(c => (c.Total, c.Comment)));
        Assert.Equal(2, lostRead.Body!["included"]!.AsArray().Count);
        Assert.Equal(["20.0"], (await Control.GetPaymentCorrectionsAsync(failed.Id, CancellationToken.None)).Select(c => c.Total));
        var failedNow = Assert.Single(await Control.GetPaymentsAsync(null, failed.Id, CancellationToken.None));
        Assert.Equal(("waiting_for_payment", 0), (failedNow.Status, failedNow.ExternalTransactionIds.Count));

        // Set directly: the manager cancels a payment by hand.
        var cancelled = await Control.ChangePaymentByHandAsync(direct.Id, new SandboxHandChange { Status = "cancelled" }, CancellationToken.None);
        Assert.Equal("cancelled", cancelled.Status);
        Assert.Equal("cancelled", (string?)(await SendAsync(HttpMethod.Get, $"{Payments}/{direct.Id}")).Attributes["status"]);

        // Only the line is an API effect; changes by hand are not.
        Assert.Equal([EffectKinds.PaymentLineApplied], (await Control.GetEffectsAsync("payment.", null, CancellationToken.None)).Select(e => e.Kind));

        // A change that names no payment or changes nothing is refused, directly and in a fault rule.
        var nothing = await Api.PostAsJsonAsync($"_sandbox/payments/{direct.Id}/by-hand", new SandboxHandChange());
        var noSuch = await Api.PostAsJsonAsync("_sandbox/payments/999999999/by-hand", new SandboxHandChange { CorrectionTotal = 1m });
        var badStatus = await Api.PostAsJsonAsync($"_sandbox/payments/{direct.Id}/by-hand", new SandboxHandChange { Status = "paid" });
        var badRule = await Api.PutAsJsonAsync("_sandbox/faults", new FaultRule { FailNext = 1, ThenByHand = new SandboxHandChange { CorrectionTotal = 1m } });
        Assert.Equal(
            [HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest],
            new[] { nothing, noSuch, badStatus, badRule }.Select(response => response.StatusCode));
        Assert.Contains("no payment", await badRule.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completion_by_number_refuses_another_currency_and_a_missing_payment_method()
    {
        var payment = await SeedAsync();

        var otherCurrency = await CompleteByNumberAsync(payment.Number, new JsonObject { ["payment_method_id"] = 2, ["amount"] = 100, ["currency_code"] = "EUR" });
        var noMethod = await CompleteByNumberAsync(payment.Number, new JsonObject { ["amount"] = 100 });
        var unknown = await CompleteByNumberAsync("no-such-number", new JsonObject { ["payment_method_id"] = 2 });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherCurrency.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noMethod.Status);
        Assert.Equal("param is missing or the value is empty: payment_method_id", noMethod.ErrorTitle);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal("waiting_for_payment", Assert.Single(await Control.GetPaymentsAsync(null, payment.Id, CancellationToken.None)).Status);
        Assert.Empty(await Control.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Payments_list_pages_and_filters_by_number_and_creation_time()
    {
        var seeded = await SeedAsync();

        var byNumber = await SendAsync(HttpMethod.Get, $"{Payments}?filter[document_id]={seeded.Number}");
        Assert.Equal(seeded.Id, (string?)Assert.Single(byNumber.Body!["data"]!.AsArray())!["id"]);

        var firstPage = await SendAsync(HttpMethod.Get, $"{Payments}?page[size]=2&page[number]=1");
        var thirdPage = await SendAsync(HttpMethod.Get, $"{Payments}?page[size]=2&page[number]=3");
        Assert.Equal(2, firstPage.Body!["data"]!.AsArray().Count);
        Assert.Equal(2, thirdPage.Body!["data"]!.AsArray().Count);

        var future = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"));
        Assert.Empty((await SendAsync(HttpMethod.Get, $"{Payments}?filter[created_at][gt]={future}")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task Payments_of_reseller_1_are_out_of_reach_of_a_token_for_reseller_2()
    {
        var payment = await SeedAsync();
        using var child = Fixture.Sandbox.CreateClient(SandboxFixture.ChildToken);

        var answer = await SendAsync(child, HttpMethod.Delete, $"{Payments}/{payment.Id}");

        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
        Assert.Equal("waiting_for_payment", Assert.Single(await Control.GetPaymentsAsync(null, payment.Id, CancellationToken.None)).Status);
    }
}
