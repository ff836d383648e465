using System.Net;
using Bridge.Sandbox;
using Xunit;

namespace Bridge.Tests.Sandbox;

public sealed class AuthTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    [Fact]
    public async Task A_missing_token_is_401_with_the_errors_object()
    {
        using var anonymous = Fixture.Sandbox.CreateClient(apiToken: null);

        var response = await SendAsync(anonymous, HttpMethod.Get, "api/v3/resellers/1/subscriptions");

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("{\"errors\":{\"title\":\"Unauthorized\",\"status\":\"401\"}}", response.Text);
    }

    [Fact]
    public async Task An_unknown_token_is_401()
    {
        using var stranger = Fixture.Sandbox.CreateClient("not-a-token");

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(stranger, HttpMethod.Get, "api/v3/resellers/1/subscriptions")).Status);
    }

    [Fact]
    public async Task A_token_reaches_its_reseller_and_the_resellers_below_it_and_nothing_else()
    {
        using var child = Fixture.Sandbox.CreateClient(SandboxFixture.ChildToken);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "api/v3/resellers/2/subscriptions")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(child, HttpMethod.Get, "api/v3/resellers/2/subscriptions")).Status);

        var upstream = await SendAsync(child, HttpMethod.Get, "api/v3/resellers/1/subscriptions");
        Assert.Equal(HttpStatusCode.Forbidden, upstream.Status);
        Assert.Equal("403", (string?)upstream.Body!["errors"]!["status"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(child, HttpMethod.Get, "api/v3/resellers/3/subscriptions")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Get, "api/v3/resellers/10/subscriptions")).Status);
    }

    [Fact]
    public async Task An_out_of_scope_write_is_refused_and_has_no_effect()
    {
        using var child = Fixture.Sandbox.CreateClient(SandboxFixture.ChildToken);

        var response = await SendAsync(child, HttpMethod.Post, Documents, ClosingDocument(NewKey()));

        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Empty(await Control.GetExternalInvoicesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_token_added_through_the_control_API_works_until_reset()
    {
        using var added = Fixture.Sandbox.CreateClient("added-token");
        await Control.AddTokenAsync("added-token", 3, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(added, HttpMethod.Get, "api/v3/resellers/3/subscriptions")).Status);

        await Control.ResetAsync(CancellationToken.None);

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(added, HttpMethod.Get, "api/v3/resellers/3/subscriptions")).Status);
    }

    [Fact]
    public void A_token_never_shows_in_ToString()
    {
        Assert.DoesNotContain("secret", new SandboxToken { Token = "secret", ResellerId = 1 }.ToString(), StringComparison.Ordinal);
    }
}
