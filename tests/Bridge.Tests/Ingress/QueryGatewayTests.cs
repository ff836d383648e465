using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Bridge.Host.Ingress;
using Bridge.Sandbox;
using Bridge.Tests.DeadLetters;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Ingress;

/// <summary>
/// The query gateway over HTTP, as an ERP that reads uses it: with its door key, over real sockets to Bridge, which reads the
/// sandbox with the installation's token — every page of a list, even when the server serves fewer items a page than asked.
/// </summary>
[Collection(DeadLetterCollection.Name)]
public sealed class QueryGatewayTests(DeadLetterFixture fixture)
{
    [Fact]
    public async Task An_account_is_read_as_ActivePlatform_has_it_and_an_absent_one_is_404()
    {
        using var erp = fixture.Door();

        using var answer = await erp.GetAsync(new Uri("api/queries/accounts/523", UriKind.Relative));
        using var absent = await erp.GetAsync(new Uri("api/queries/accounts/999999", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("application/vnd.api+json", answer.Content.Headers.ContentType!.MediaType);
        var account = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        Assert.Equal("523", account["data"]!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
    }

    [Fact]
    public async Task Every_subscription_is_answered_with_its_included_objects_when_the_server_serves_fewer_a_page_than_asked()
    {
        using var erp = fixture.Door();
        var uncapped = await SubscriptionsAsync(erp);
        await fixture.Sandbox.Control.SetPagingAsync(new SandboxPagingSettings { MaxPageSize = 7 }, CancellationToken.None);
        try
        {
            using var answer = await erp.GetAsync(new Uri("api/queries/subscriptions?include=account,plan", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            var capped = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;

            var ids = capped["data"]!.AsArray().Select(item => item!["id"]!.GetValue<string>()).ToList();
            Assert.True(ids.Count > 7, $"the sandbox holds {ids.Count} subscriptions: too few to cross a page");
            Assert.Equal(uncapped["data"]!.AsArray().Select(item => item!["id"]!.GetValue<string>()), ids);
            Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
            Assert.True(int.Parse(answer.Headers.GetValues("Bridge-Pages-Read").Single(), System.Globalization.CultureInfo.InvariantCulture) >= (ids.Count + 6) / 7);
            Assert.NotEmpty(capped["included"]!.AsArray());
        }
        finally
        {
            await fixture.Sandbox.Control.SetPagingAsync(new SandboxPagingSettings(), CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_payment_sent_through_the_door_is_found_by_a_query_for_the_payments()
    {
        var key = "topup-" + NewId.NextGuid().ToString("N");
        using var erp = fixture.Door();
        using (var content = new StringContent($$"""{"key":"{{key}}","accountId":523,"total":12.5,"comment":"top-up payment"}""", Encoding.UTF8, "application/json"))
        {
            content.Headers.Add(IngressApi.IdempotencyKeyHeader, key);
            Assert.Equal(HttpStatusCode.Accepted, (await erp.PostAsync(new Uri("api/messages/RegisterPayment", UriKind.Relative), content)).StatusCode);
        }

        var registered = await fixture.Events.WaitForAsync<Bridge.Contracts.PaymentRegistered>(key);
        using var payments = await erp.GetAsync(new Uri("api/queries/payments", UriKind.Relative));
        using var one = await erp.GetAsync(new Uri($"api/queries/payments/{registered.PaymentId}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, payments.StatusCode);
        var ids = JsonNode.Parse(await payments.Content.ReadAsStringAsync())!["data"]!.AsArray().Select(item => item!["id"]!.GetValue<string>());
        Assert.Contains(registered.PaymentId, ids);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
    }

    [Fact]
    public async Task Queries_need_an_ERP_key_and_an_unknown_filter_is_refused_not_ignored()
    {
        using var anonymous = fixture.Door(key: null);
        using var operatorToken = fixture.Door(DeadLetterFixture.OperatorToken);
        using var erp = fixture.Door();

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri("api/queries/accounts/523", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await operatorToken.GetAsync(new Uri("api/queries/subscriptions", UriKind.Relative))).StatusCode);
        using var unknownFilter = await erp.GetAsync(new Uri("api/queries/subscriptions?filter[no_such_field]=1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadGateway, unknownFilter.StatusCode);
    }

    private static async Task<JsonNode> SubscriptionsAsync(HttpClient erp)
    {
        using var answer = await erp.GetAsync(new Uri("api/queries/subscriptions", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
    }
}
