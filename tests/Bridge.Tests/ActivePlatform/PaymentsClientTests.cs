using System.Text.Json;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Payments;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Bridge.Tests.ActivePlatform;

/// <summary>The payments client against the sandbox over real sockets, and against a scripted server for tolerance.</summary>
public sealed class PaymentsClientTests : IAsyncLifetime
{
    private RunningSandbox _sandbox = null!;
    private StandaloneActivePlatformClient _standalone = null!;

    private IPaymentsClient Payments => _standalone.Services.GetRequiredService<IPaymentsClient>();

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxServer.StartAsync(new SandboxSettings().WithTestAccounts(), CancellationToken.None);
        _standalone = ActivePlatformClientFactory.Create(TestClients.Options(_sandbox.BaseAddress, o => o.ApiToken = SandboxSettings.DefaultToken));
    }

    public async Task DisposeAsync()
    {
        await _standalone.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    private Task<SandboxPayment> SeedAsync(string status = "waiting_for_payment", decimal total = 100m)
        => _sandbox.Control.AddPaymentAsync(new SandboxPaymentSeed { Status = status, Total = total }, CancellationToken.None);

    [Fact]
    public async Task A_top_up_is_created_read_found_by_number_listed_and_cancelled()
    {
        var created = await Payments.CreateTopUpAsync(1, new TopUpPayment(523, 199.99m, "top-up payment", "prepay payment"), CancellationToken.None);

        Assert.Equal(PaymentStatuses.WaitingForPayment, created.Attributes.Status);
        Assert.Equal(199.99m, created.Attributes.Total);
        Assert.Equal(523, created.Attributes.AccountId);
        Assert.Equal("USD", created.Attributes.CurrencyCode);
        Assert.Equal(created.Id, (await Payments.GetAsync(1, created.Id, CancellationToken.None))!.Id);
        Assert.Equal(created.Id, (await Payments.FindByNumberAsync(1, created.Attributes.DocumentId!, CancellationToken.None))!.Id);
        Assert.Null(await Payments.FindByNumberAsync(1, "no-such-number", CancellationToken.None));
        Assert.Null(await Payments.GetAsync(1, "999999", CancellationToken.None));

        var since = new Dictionary<string, string> { ["created_at[gte]"] = created.Attributes.CreatedAt!.Value.Value.ToString("O") };
        var listed = await Payments.ListAsync(1, new PaymentQuery { Filters = since, PageSize = 2 }, CancellationToken.None).ToListAsync();
        Assert.Contains(listed, p => p.Id == created.Id);
        // Five seeded payments and this one, over three pages of two.
        Assert.Equal(6, (await Payments.ListAsync(1, new PaymentQuery { PageSize = 2 }, CancellationToken.None).ToListAsync()).Select(p => p.Id).Distinct().Count());

        var cancelled = await Payments.CancelAsync(1, created.Id, CancellationToken.None);
        Assert.Equal(PaymentStatuses.Cancelled, cancelled.Attributes.Status);
        Assert.NotNull(cancelled.Attributes.ClosedAt);

        var refused = await Assert.ThrowsAsync<ActivePlatformPermanentException>(() => Payments.CancelAsync(1, created.Id, CancellationToken.None));
        Assert.Equal(422, refused.Status);
        Assert.Equal("Only payments with \"waiting for payment\" status can be cancelled.", refused.Title);
    }

    [Fact]
    public async Task Completion_by_id_from_balance_and_by_number_reach_the_documented_states()
    {
        var expired = await SeedAsync("expired");
        var waiting = await SeedAsync();
        var overpaid = await SeedAsync(total: 100m);

        var byId = await Payments.CompleteByIdAsync(1, expired.Id, 2, CancellationToken.None);
        var fromBalance = await Payments.PayFromBalanceAsync(1, waiting.Id, CancellationToken.None);
        var byNumber = await Payments.CompleteByNumberAsync(1, overpaid.Number, new PaymentCompletionByNumber(2, 125.5m, "USD", "BS-77"), CancellationToken.None);

        Assert.Equal(PaymentStatuses.Completed, byId.Attributes.Status);
        Assert.Equal("Cash", byId.Attributes.PaymentMethodName);
        Assert.Equal(PaymentStatuses.PaidFromBalance, fromBalance.Attributes.Status);
        Assert.Equal(PaymentStatuses.Completed, byNumber.Attributes.Status);
        var correctionId = Assert.Single(byNumber.CorrectionIds);
        var corrections = await Payments.GetCorrectionsAsync(1, overpaid.Id, CancellationToken.None);
        Assert.Equal(25.5m, corrections[correctionId].Total);
        Assert.Equal($"Accounting of the amount received on the basis of {overpaid.Number} from an external system.", corrections[correctionId].Comment);

        var other = await SeedAsync();
        var wrongCurrency = await Assert.ThrowsAsync<ActivePlatformPermanentException>(
            () => Payments.CompleteByNumberAsync(1, other.Number, new PaymentCompletionByNumber(2, 1m, "EUR", "BS-78"), CancellationToken.None));
        Assert.Equal(422, wrongCurrency.Status);
    }

    [Fact]
    public async Task Payments_are_read_tolerantly_and_errors_as_an_array_are_classified()
    {
        await using var server = await ScriptedServer.StartAsync();
        server.Handler = (ctx, request) => request.Method == "GET"
            ? ScriptedServer.Json(ctx, 200, """
                {"data":{"id":2162,"type":"payments","attributes":{"account_id":"463","total":199.99,"discount_amount":"0.0","status":"completed",
                 "document_id":2018,"closed_at":"2019-11-01T06:37:31.737051+0300","expiration_date":"2019-11-11","payment_method_id":"2","brand_new":true},
                 "relationships":{"corrections":{"data":[{"id":738,"type":"corrections"}]},"payment_method":{"data":null}}}}
                """)
            : ScriptedServer.Json(ctx, 422, """{"errors":[{"title":"Only payments with \"waiting for payment\" status can be cancelled.","status":"422"}]}""");
        await using var client = ActivePlatformClientFactory.Create(TestClients.Options(server.BaseUrl));
        var payments = client.Services.GetRequiredService<IPaymentsClient>();

        var payment = await payments.GetAsync(1, "2162", CancellationToken.None);
        var refused = await Assert.ThrowsAsync<ActivePlatformPermanentException>(() => payments.CancelAsync(1, "2162", CancellationToken.None));

        Assert.Equal("2162", payment!.Id);
        Assert.Equal(463, payment.Attributes.AccountId);
        Assert.Equal(199.99m, payment.Attributes.Total);
        Assert.Equal("2018", payment.Attributes.DocumentId);
        Assert.Equal(2, payment.Attributes.PaymentMethodId);
        Assert.Equal(new DateOnly(2019, 11, 11), payment.Attributes.ExpirationDate);
        Assert.Equal(TimeSpan.FromHours(3), payment.Attributes.ClosedAt!.Value.Value.Offset);
        Assert.Equal(["738"], payment.CorrectionIds);
        Assert.True(payment.Attributes.ExtensionData!.ContainsKey("brand_new"));
        Assert.Equal("Only payments with \"waiting for payment\" status can be cancelled.", refused.Title);
        Assert.DoesNotContain(TestClients.Token, refused.ToString(), StringComparison.Ordinal);

        var sent = server.Requests.Single(r => r.Method == "DELETE");
        Assert.Equal("/api/v3/resellers/1/payments/2162", sent.Path);
        Assert.Equal(TestClients.Token, sent.Headers["X-Api-Token"]);
    }

    [Fact]
    public async Task Completion_by_number_sends_the_documented_body_and_leaves_out_what_is_absent()
    {
        await using var server = await ScriptedServer.StartAsync();
        server.Handler = (ctx, _) => ScriptedServer.Json(ctx, 200, """{"data":{"id":"2162","type":"payments","attributes":{"status":"completed","document_id":"002018"}}}""");
        await using var client = ActivePlatformClientFactory.Create(TestClients.Options(server.BaseUrl));
        var payments = client.Services.GetRequiredService<IPaymentsClient>();

        await payments.CompleteByNumberAsync(1, "002018", new PaymentCompletionByNumber(2, 123.45m, null, "BS-1"), CancellationToken.None);

        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/api/v3/resellers/1/payments/002018", request.Path);
        using var body = JsonDocument.Parse(request.Body);
        var attributes = body.RootElement.GetProperty("data").GetProperty("attributes");
        Assert.Equal("2", attributes.GetProperty("payment_method_id").GetString());
        Assert.Equal(123.45m, attributes.GetProperty("amount").GetDecimal());
        Assert.Equal("BS-1", attributes.GetProperty("external_transaction_id").GetString());
        Assert.False(attributes.TryGetProperty("currency_code", out _));
    }
}
