using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace Bridge.Tests.Sandbox;

/// <summary>
/// The sandbox is as strict about the shape of a request as the documented API, so a client that gets it wrong fails in
/// the tests rather than at a customer: the media types the docs require on every method, each endpoint's documented body
/// envelope, and a body with a length (some gateways in front of installations refuse chunked bodies).
/// </summary>
public sealed class RequestShapeTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private const string JsonApi = "application/vnd.api+json";

    [Fact]
    public async Task A_request_that_does_not_accept_JSON_API_is_refused_with_406()
    {
        var none = await RawAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions", accept: null);
        var json = await RawAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions", accept: "application/json");
        var jsonApi = await RawAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions", accept: JsonApi);

        Assert.Equal(HttpStatusCode.NotAcceptable, none.Status);
        Assert.Equal("{\"errors\":{\"title\":\"Not Acceptable\",\"status\":\"406\"}}", none.Text);
        Assert.Equal(HttpStatusCode.NotAcceptable, json.Status);
        Assert.Equal(HttpStatusCode.OK, jsonApi.Status);
    }

    [Fact]
    public async Task A_body_of_another_media_type_is_refused_with_415_and_has_no_effect()
    {
        var key = NewKey();

        var refused = await RawAsync(HttpMethod.Post, Documents, body: ClosingDocument(key), contentType: "application/json");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.Status);
        Assert.Equal("415", (string?)JsonNode.Parse(refused.Text)!["errors"]!["status"]);
        Assert.DoesNotContain(await Control.GetExternalInvoicesAsync(CancellationToken.None), document => document.Key == key);
    }

    [Fact]
    public async Task Payments_and_corrections_take_only_the_data_attributes_envelope()
    {
        var payment = new JsonObject { ["account_id"] = 505, ["total"] = 199.99, ["comment"] = "top-up payment", ["purpose"] = "prepay payment" };
        var correction = new JsonObject
        {
            ["account_id"] = 710, ["included_invoice"] = true, ["subscription_id"] = 3008954, ["period_from"] = "2021-12-01",
            ["period_to"] = "2021-12-31", ["total"] = "100.25", ["comment"] = "flat",
        };
        var paymentsBefore = (await Control.GetPaymentsAsync(null, null, CancellationToken.None)).Count;

        var flatPayment = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/payments", payment.DeepClone());
        var flatCorrection = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/corrections", correction.DeepClone());
        var paymentsAfterFlat = (await Control.GetPaymentsAsync(null, null, CancellationToken.None)).Count;
        var wrappedPayment = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/payments", Wrapped(payment));
        var wrappedCorrection = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/corrections", Wrapped(correction));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, flatPayment.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, flatCorrection.Status);
        Assert.Equal(paymentsBefore, paymentsAfterFlat);
        Assert.Equal(HttpStatusCode.Created, wrappedPayment.Status);
        Assert.Equal(HttpStatusCode.Created, wrappedCorrection.Status);
    }

    [Fact]
    public async Task Notifications_and_invoice_completion_take_only_the_flat_body()
    {
        var notification = new JsonObject { ["account_ids"] = new JsonArray(505), ["start_date"] = "2019-11-01", ["end_date"] = "2019-11-30" };
        var completion = new JsonObject { ["document_id"] = "NS2000015", ["billing_date"] = "2020-04-01" };

        var wrappedNotification = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/notifications/external_invoices", Wrapped(notification));
        var flatNotification = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/notifications/external_invoices", notification.DeepClone());
        var wrappedCompletion = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/accounts/505/complete_invoices", Wrapped(completion));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrappedNotification.Status);
        Assert.Equal("param is missing or the value is empty: account_ids", wrappedNotification.ErrorTitle);
        Assert.Equal(HttpStatusCode.OK, flatNotification.Status);
        Assert.Equal(HttpStatusCode.BadRequest, wrappedCompletion.Status);
    }

    [Fact]
    public async Task A_chunked_body_is_refused_with_411_and_has_no_effect_while_the_same_body_with_a_length_is_taken()
    {
        var key = NewKey();

        var chunked = await PostAsync(key, chunked: true);
        var measured = await PostAsync(key, chunked: false);

        Assert.Equal(HttpStatusCode.LengthRequired, chunked.Status);
        Assert.Equal("{\"errors\":{\"title\":\"Length Required\",\"status\":\"411\"}}", chunked.Text);
        Assert.Equal(HttpStatusCode.Created, measured.Status);
        Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None), document => document.Key == key);
    }

    private static JsonObject Wrapped(JsonObject attributes) => new() { ["data"] = new JsonObject { ["attributes"] = attributes.DeepClone() } };

    private async Task<(HttpStatusCode Status, string Text)> RawAsync(HttpMethod method, string uri, string? accept = JsonApi, JsonNode? body = null, string contentType = JsonApi)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, contentType);
        }

        using var response = await Fixture.Api.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<(HttpStatusCode Status, string Text)> PostAsync(string key, bool chunked)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Documents);
        request.Headers.Accept.ParseAdd("application/vnd.api+json");
        request.Headers.TransferEncodingChunked = chunked;
        request.Content = new StringContent(ClosingDocument(key).ToJsonString(), Encoding.UTF8, "application/vnd.api+json");
        using var response = await Fixture.Api.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
