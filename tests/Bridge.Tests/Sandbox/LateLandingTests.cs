using System.Net;
using Bridge.Sandbox;
using Xunit;

namespace Bridge.Tests.Sandbox;

/// <summary>
/// The fault a lost answer alone cannot make: a call answered at once (a gateway gave up) and carried out by the platform
/// later, after calls the client sent meanwhile. The waits are on the sandbox's count of calls still to land, never a
/// clock: a test orders the landing with <c>/_sandbox/late-landings/land</c>.
/// </summary>
public sealed class LateLandingTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_create_answered_502_is_carried_out_once_when_it_lands_and_not_before()
    {
        var key = NewKey();
        await Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/external_invoices", LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000 }, CancellationToken.None);

        var answered = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key, name: "Act r1"));

        Assert.Equal(HttpStatusCode.BadGateway, answered.Status);
        Assert.Equal(1, await Control.GetPendingLateLandingsAsync(CancellationToken.None));
        Assert.Empty(await Control.GetEffectsAsync(null, key, CancellationToken.None));
        Assert.Empty(await Control.GetExternalInvoicesAsync(CancellationToken.None));

        await Control.LandLateCallsNowAsync(CancellationToken.None);
        await Control.AwaitLateLandingsAsync(Limit, CancellationToken.None);

        var effect = Assert.Single(await Control.GetEffectsAsync(null, key, CancellationToken.None));
        Assert.Equal(EffectKinds.ExternalInvoiceCreated, effect.Kind);
        Assert.Equal("Act r1", Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None)).Name);
        var calls = await Control.GetCallsAsync("POST", "/external_invoices", key, CancellationToken.None);
        Assert.Equal([("answered-before-landing", 502), ("landed-late", 201)], calls.Select(c => (c.Fault, c.Status)));
    }

    [Fact]
    public async Task An_update_that_lands_late_overwrites_the_update_sent_after_it()
    {
        var key = NewKey();
        var id = (await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key, name: "Act r1"))).Id;
        await Control.SetFaultAsync(new FaultRule { Method = "PATCH", LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000 }, CancellationToken.None);

        var late = await SendAsync(HttpMethod.Patch, $"{Documents}/{id}", ClosingDocument(key, name: "Act r2"));
        var next = await SendAsync(HttpMethod.Patch, $"{Documents}/{id}", ClosingDocument(key, name: "Act r3"));
        Assert.Equal(HttpStatusCode.BadGateway, late.Status);
        Assert.Equal(HttpStatusCode.OK, next.Status);
        Assert.Equal("Act r3", Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None)).Name);

        await Control.LandLateCallsNowAsync(CancellationToken.None);
        await Control.AwaitLateLandingsAsync(Limit, CancellationToken.None);

        Assert.Equal("Act r2", Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None)).Name);
        var updates = await Control.GetEffectsAsync(EffectKinds.ExternalInvoiceUpdated, key, CancellationToken.None);
        Assert.Equal(["Act r3", "Act r2"], updates.Select(e => e.Details["name"]));
    }

    [Fact]
    public async Task A_call_lands_by_itself_after_its_delay()
    {
        var key = NewKey();
        await Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/external_invoices", LandLateNext = 1, LandLateMinMs = 1, LandLateMaxMs = 50 }, CancellationToken.None);

        Assert.Equal(HttpStatusCode.BadGateway, (await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key))).Status);
        await Control.AwaitLateLandingsAsync(Limit, CancellationToken.None);

        Assert.Equal(key, Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None)).Key);
    }

    [Fact]
    public async Task A_call_that_lands_as_an_async_task_is_run_to_its_end()
    {
        // Nobody polls the landed call's task, yet ActivePlatform runs it: the document is written.
        await Control.SetAsyncModeAsync(new AsyncModeSettings { Mode = AsyncWriteMode.KeyPattern, KeyPattern = "^async-", PollsToComplete = 3 }, CancellationToken.None);
        var key = "async-" + NewKey();
        await Control.SetFaultAsync(new FaultRule { Method = "POST", LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000 }, CancellationToken.None);
        Assert.Equal(HttpStatusCode.BadGateway, (await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key))).Status);

        await Control.LandLateCallsNowAsync(CancellationToken.None);
        await Control.AwaitLateLandingsAsync(Limit, CancellationToken.None);

        Assert.Equal(key, Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None)).Key);
        Assert.Equal("completed", Assert.Single(await Control.GetAsyncTasksAsync(CancellationToken.None)).Status);
    }

    [Fact]
    public async Task A_call_lands_on_the_address_it_arrived_on_whatever_its_Host_header_said()
    {
        // Behind a port mapping the Host header names an address the sandbox cannot reach from inside.
        var key = NewKey();
        await Control.SetFaultAsync(new FaultRule { Method = "POST", LandLateNext = 1, LandLateMinMs = 0, LandLateMaxMs = 0 }, CancellationToken.None);
        using var request = new HttpRequestMessage(HttpMethod.Post, Documents)
        {
            Content = new StringContent(ClosingDocument(key).ToJsonString(), System.Text.Encoding.UTF8, "application/vnd.api+json"),
        };
        request.Headers.Accept.ParseAdd("application/vnd.api+json");
        request.Headers.Host = "127.0.0.1:1";
        using var answered = await Api.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadGateway, answered.StatusCode);

        await Control.AwaitLateLandingsAsync(Limit, CancellationToken.None);

        Assert.Equal(key, Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None)).Key);
    }

    [Fact]
    public async Task A_reset_drops_what_has_not_landed()
    {
        await Control.SetFaultAsync(new FaultRule { Method = "POST", LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000 }, CancellationToken.None);
        Assert.Equal(HttpStatusCode.BadGateway, (await SendAsync(HttpMethod.Post, Documents, ClosingDocument(NewKey()))).Status);

        await Control.ResetAsync(CancellationToken.None);
        await Control.AwaitLateLandingsAsync(Limit, CancellationToken.None);
        await Control.LandLateCallsNowAsync(CancellationToken.None);

        Assert.Empty(await Control.GetExternalInvoicesAsync(CancellationToken.None));
        Assert.Empty(await Control.GetEffectsAsync(null, null, CancellationToken.None));
    }

    [Fact]
    public async Task A_rule_whose_delays_are_out_of_order_is_refused()
    {
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() =>
            Control.SetFaultAsync(new FaultRule { LandLateRate = 0.5, LandLateMinMs = 10, LandLateMaxMs = 5 }, CancellationToken.None));
        var tooLong = await Assert.ThrowsAsync<HttpRequestException>(() =>
            Control.SetFaultAsync(new FaultRule { LandLateRate = 0.5, LandLateMaxMs = int.MaxValue }, CancellationToken.None));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Empty(await Control.GetFaultsAsync(CancellationToken.None));
    }
}
