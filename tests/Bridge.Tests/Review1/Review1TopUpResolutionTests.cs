using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bridge.Contracts;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using Bridge.Tests.DeadLetters;
using Bridge.Tests.Pipeline;
using MassTransit;
using Microsoft.AspNetCore.Builder;

namespace Bridge.Tests.Review1;

/// <summary>
/// REVIEW1 (adversarial review of 48ecf9c, failing on purpose until fixed): TopUpResourceCheck reads payment X from
/// ActivePlatform by the operator's text, but the journal's "one payment is one key's" rule (ux_effect_journal_resource) compares
/// that text as written. ActivePlatform (Rails' find, and the sandbox's long.TryParse(NumberStyles.None)) reads "0" + id as the
/// same payment, so a second top-up of the same account and total can be resolved as the payment the first top-up was
/// already reported credited with: one payment reported to finance as two top-ups.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class Review1TopUpResolutionTests(PipelineFixture fixture) : IAsyncLifetime
{
    private const string OperatorToken = "review1-operator-0123456789";
    private const string ViewerToken = "review1-viewer-0123456789";

    private readonly string _prefix = $"bridge-rv1-{Guid.NewGuid():N}"[..22];
    private WebApplication _bridge = null!;
    private Uri _baseAddress = null!;

    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    public async Task InitializeAsync()
    {
        _bridge = await DeadLetterFixture.StartBridgeAsync(fixture.Settings(_prefix, new Dictionary<string, string?>
        {
            ["Bridge:Admin:Tokens:0:Name"] = "olga",
            ["Bridge:Admin:Tokens:0:Token"] = OperatorToken,
            ["Bridge:Admin:Tokens:0:Role"] = "Operator",
            ["Bridge:Admin:Tokens:1:Name"] = "viewer",
            ["Bridge:Admin:Tokens:1:Token"] = ViewerToken,
            ["Bridge:Admin:Tokens:1:Role"] = "ReadOnly",
        }));
        _baseAddress = new Uri(_bridge.Urls.Single());
    }

    public async Task DisposeAsync()
    {
        await Sandbox.ClearFaultsAsync(CancellationToken.None);
        await _bridge.StopAsync();
        await _bridge.DisposeAsync();
    }

    [Fact]
    public async Task a_top_up_is_not_resolved_as_the_payment_another_top_up_owns_written_with_a_leading_zero()
    {
        var account = 700_000 + Random.Shared.Next(99_999);
        var queue = $"{_prefix}.{RegisterPaymentConsumer.Queue}";

        // Top-up 1 goes through: ActivePlatform created payment P1, finance was told "P1 credited for top-up 1".
        var first = $"topup-{Guid.NewGuid():N}";
        await fixture.Erp.PublishJsonAsync(queue, new { key = first, accountId = account, total = 55m, comment = "top-up payment" }, NewId.NextGuid().ToString("D"));
        var firstRegistered = await fixture.Events.WaitForAsync<PaymentRegistered>(first);

        // Top-up 2, same account and total (a monthly top-up): its answer is lost and two unowned payments match -> Unknown.
        var second = $"topup-{Guid.NewGuid():N}";
        var secondId = NewId.NextGuid().ToString("D");
        await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { AccountId = account, Total = 55m, TopUp = true }, CancellationToken.None);
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/resellers/1/payments", LoseAnswerNext = 1 }, CancellationToken.None);
        await fixture.Erp.PublishJsonAsync(queue, new { key = second, accountId = account, total = 55m, comment = "top-up payment" }, secondId);
        var letter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == secondId);
        await Sandbox.ClearFaultsAsync(CancellationToken.None);
        var effect = await SingleEffectAsync(secondId);
        Assert.Equal("Unknown", Text(effect, "state"));

        // The operator names top-up 1's payment, as "0<id>" (copied from a zero-padded column, or typed so).
        using var admin = Admin(OperatorToken);
        var resolveUri = new Uri($"admin/effects/{Text(effect, "id")}/resolve", UriKind.Relative);
        var resolved = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = "0" + firstRegistered.PaymentId, note = "checked in ActivePlatform" });

        if (resolved.IsSuccessStatusCode)
        {
            // What the acceptance leads to: top-up 2 reported credited with the very payment top-up 1 was reported with.
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync(new Uri($"admin/dead-letters/{letter.DeadLetterId}/replay", UriKind.Relative), null)).StatusCode);
            var secondRegistered = await fixture.Events.WaitForAsync<PaymentRegistered>(second);
            Assert.Fail(
                $"Top-up {second} was reported PaymentRegistered with payment id '{secondRegistered.PaymentId}' (number {secondRegistered.PaymentNumber}), "
                + $"which is payment {firstRegistered.PaymentId} (number {firstRegistered.PaymentNumber}) already reported for top-up {first}: one payment credited twice to finance.");
        }

        Assert.Equal(HttpStatusCode.BadRequest, resolved.StatusCode);
    }

    private async Task<JsonObject> SingleEffectAsync(string owner)
    {
        using var viewer = Admin(ViewerToken);
        var page = (await viewer.GetFromJsonAsync<JsonObject>(new Uri($"admin/effects?owner={Uri.EscapeDataString(owner)}", UriKind.Relative)))!;
        return Assert.Single(page["items"]!.AsArray())!.AsObject();
    }

    private HttpClient Admin(string token)
    {
        var client = new HttpClient { BaseAddress = _baseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static string Text(JsonNode? node, string name) => node?[name] switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        var other => other.ToJsonString(),
    };
}
