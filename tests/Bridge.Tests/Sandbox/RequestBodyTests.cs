using System.Net;
using System.Text;
using Xunit;

namespace Bridge.Tests.Sandbox;

/// <summary>
/// The sandbox refuses a request body sent without a length, as some gateways in front of installations do, so a client
/// that streams its bodies (chunked) fails in the tests rather than at a customer.
/// </summary>
public sealed class RequestBodyTests(SandboxFixture fixture) : SandboxTest(fixture)
{
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
