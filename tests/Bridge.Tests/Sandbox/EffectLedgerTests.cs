using System.Net;
using System.Text.Json.Nodes;
using Bridge.Sandbox;
using Xunit;

namespace Bridge.Tests.Sandbox;

public sealed class EffectLedgerTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private const string Payments = "api/v3/resellers/1/payments";

    private static JsonObject Attributes(JsonObject attributes) => new() { ["data"] = new JsonObject { ["attributes"] = attributes } };

    [Fact]
    public async Task A_write_whose_answer_was_lost_is_one_effect_and_a_refused_write_none()
    {
        var key = NewKey();
        await Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/external_invoices", LoseAnswerNext = 1 }, CancellationToken.None);

        var lost = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key, name: "Act r1", total: "10.5"));
        var refused = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key, name: "Act r2"));

        Assert.Equal(HttpStatusCode.BadGateway, lost.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        var effect = Assert.Single(await Control.GetEffectsAsync(null, key, CancellationToken.None));
        Assert.Equal(EffectKinds.ExternalInvoiceCreated, effect.Kind);
        Assert.Equal(1, effect.ResellerId);
        Assert.Equal("Act r1", effect.Details["name"]);
        Assert.Equal("10.5", effect.Details["total"]);
        var stored = Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None));
        Assert.Equal(stored.Id, effect.Details["id"]);
    }

    [Fact]
    public async Task An_async_write_is_an_effect_on_the_poll_that_completes_it_and_a_delete_follows_in_order()
    {
        await Control.SetAsyncModeAsync(new AsyncModeSettings { Mode = AsyncWriteMode.All, PollsToComplete = 2 }, CancellationToken.None);
        var key = NewKey();

        var accepted = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key));
        await SendAsync(HttpMethod.Get, $"api/v3/resellers/1/async_tasks/{accepted.Id}");
        Assert.Empty(await Control.GetEffectsAsync(null, key, CancellationToken.None));

        await SendAsync(HttpMethod.Get, $"api/v3/resellers/1/async_tasks/{accepted.Id}");
        var id = Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None)).Id;
        await SendAsync(HttpMethod.Delete, $"{Documents}/{id}");

        var effects = await Control.GetEffectsAsync("external_invoice.", key, CancellationToken.None);
        Assert.Equal([EffectKinds.ExternalInvoiceCreated, EffectKinds.ExternalInvoiceDeleted], effects.Select(e => e.Kind));
        Assert.True(effects[0].Sequence < effects[1].Sequence);
        Assert.Equal([EffectKinds.ExternalInvoiceDeleted], (await Control.GetEffectsAsync(null, null, CancellationToken.None, after: effects[0].Sequence)).Select(e => e.Kind));
    }

    [Fact]
    public async Task A_statement_line_records_its_amount_and_the_correction_it_made()
    {
        var payment = await Control.AddPaymentAsync(new SandboxPaymentSeed { Total = 100m }, CancellationToken.None);

        var partial = await SendAsync(HttpMethod.Post, $"{Payments}/{payment.Number}", Attributes(new JsonObject
        {
            ["payment_method_id"] = 2,
            ["amount"] = "40.00",
            ["external_transaction_id"] = "line-1",
        }));

        Assert.Equal(HttpStatusCode.OK, partial.Status);
        var line = Assert.Single(await Control.GetEffectsAsync(EffectKinds.PaymentLineApplied, payment.Number, CancellationToken.None));
        var correction = Assert.Single(await Control.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None));
        Assert.Equal("line-1", line.Details["externalTransactionId"]);
        Assert.Equal("40.0", line.Details["amount"]);
        Assert.Equal("waiting_for_payment", line.Details["statusBefore"]);
        Assert.Equal("waiting_for_payment", line.Details["statusAfter"]);
        Assert.Equal(correction.Id, line.Details["correctionId"]);
        Assert.Equal(payment.Id, line.Details["paymentId"]);

        // Seeding through the control API is not an effect; only the API call above is.
        Assert.Single(await Control.GetEffectsAsync("payment.", null, CancellationToken.None));
    }

    [Fact]
    public async Task Fault_rates_lose_answers_after_the_effect_and_throttle_without_one()
    {
        await Control.SetFaultsAsync(
        [
            new FaultRule { Method = "POST", PathContains = "/external_invoices", LoseAnswerRate = 1 },
            new FaultRule { Method = "DELETE", PathContains = "/external_invoices", ThrottleRate = 1, RetryAfterSeconds = 3 },
        ], CancellationToken.None);
        var key = NewKey();

        var created = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key));
        var id = Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None)).Id;
        var throttled = await SendAsync(HttpMethod.Delete, $"{Documents}/{id}");

        Assert.Equal(HttpStatusCode.BadGateway, created.Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.Status);
        Assert.Equal(TimeSpan.FromSeconds(3), throttled.RetryAfter);
        Assert.Equal([EffectKinds.ExternalInvoiceCreated], (await Control.GetEffectsAsync(null, key, CancellationToken.None)).Select(e => e.Kind));
        var calls = await Control.GetCallsAsync(null, "/external_invoices", key, CancellationToken.None);
        Assert.Equal(["lost-answer", "throttle"], calls.Select(c => c.Fault));
    }

    [Fact]
    public async Task A_notification_is_one_effect_and_the_call_log_keys_it_by_its_accounts()
    {
        await Control.SetFaultAsync(new FaultRule { PathContains = "/notifications", LoseAnswerNext = 1 }, CancellationToken.None);

        var lost = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/notifications/external_invoices",
            new JsonObject { ["account_ids"] = new JsonArray(505, 506), ["start_date"] = "2019-11-01", ["end_date"] = "2019-11-30" });

        Assert.Equal(HttpStatusCode.BadGateway, lost.Status);
        var effect = Assert.Single(await Control.GetEffectsAsync(EffectKinds.NotificationSent, "505,506", CancellationToken.None));
        Assert.Equal("2019-11-01", effect.Details["startDate"]);
        var call = Assert.Single(await Control.GetCallsAsync("POST", "/notifications", "505,506", CancellationToken.None));
        Assert.Equal("lost-answer", call.Fault);
    }

    [Fact]
    public async Task A_rate_outside_zero_to_one_is_refused()
    {
        using var response = await Api.PutAsync(
            new Uri("_sandbox/faults", UriKind.Relative),
            new StringContent("""{"loseAnswerRate":1.5}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
