using System.Diagnostics;
using System.Net;
using Bridge.Sandbox;
using Xunit;

namespace Bridge.Tests.Sandbox;

public sealed class FaultTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    [Fact]
    public async Task The_next_two_requests_answer_503_and_the_third_succeeds()
    {
        await Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/external_invoices", FailNext = 2 }, CancellationToken.None);
        var key = NewKey();

        var first = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key));
        var second = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key));
        var third = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.Status);
        Assert.Equal("503", (string?)first.Body!["errors"]!["status"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.Status);
        Assert.Equal(HttpStatusCode.Created, third.Status);
        Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_fault_scoped_to_POST_leaves_GET_alone()
    {
        await Control.SetFaultAsync(new FaultRule { Method = "POST", FailNext = 1 }, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions")).Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await SendAsync(HttpMethod.Post, Documents, ClosingDocument(NewKey()))).Status);
    }

    [Fact]
    public async Task Throttling_answers_429_with_Retry_After()
    {
        await Control.SetFaultAsync(new FaultRule { ThrottleNext = 1, RetryAfterSeconds = 7 }, CancellationToken.None);

        var throttled = await SendAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions");
        var next = await SendAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions");

        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.Status);
        Assert.Equal(TimeSpan.FromSeconds(7), throttled.RetryAfter);
        Assert.Equal("429", (string?)throttled.Body!["errors"]!["status"]);
        Assert.Equal(HttpStatusCode.OK, next.Status);
    }

    [Fact]
    public async Task The_call_log_counts_POSTs_per_key_including_faulted_ones()
    {
        await Control.SetFaultAsync(new FaultRule { Method = "POST", FailNext = 1 }, CancellationToken.None);
        var key = NewKey();
        var other = NewKey();

        await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key));
        await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key));
        await SendAsync(HttpMethod.Post, Documents, ClosingDocument(other));
        await SendAsync(HttpMethod.Get, $"{Documents}?filter[key]={key}");

        var posts = await Control.GetCallsAsync("POST", "/external_invoices", key, CancellationToken.None);
        Assert.Equal([503, 201], posts.Select(c => c.Status));
        Assert.Equal(["error", null], posts.Select(c => c.Fault));
        Assert.Single(await Control.GetCallsAsync("POST", null, other, CancellationToken.None));
        var lookup = Assert.Single(await Control.GetCallsAsync("GET", "/external_invoices", null, CancellationToken.None));
        Assert.Equal($"?filter[key]={key}", lookup.Query);
    }

    [Fact]
    public async Task A_hang_lasts_until_the_client_gives_up_and_the_next_call_is_answered()
    {
        await Control.SetFaultAsync(new FaultRule { HangNext = 1 }, CancellationToken.None);
        using var impatient = Fixture.Sandbox.CreateClient();
        impatient.Timeout = TimeSpan.FromMilliseconds(500);
        impatient.DefaultRequestHeaders.Accept.ParseAdd("application/vnd.api+json");

        await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.GetAsync(new Uri("api/v3/resellers/1/subscriptions", UriKind.Relative)));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions")).Status);

        // The hung call is logged once the server notices the client left; wait for that with a deadline.
        var deadline = Stopwatch.StartNew();
        IReadOnlyList<SandboxCall> hung = [];
        while (deadline.Elapsed < TimeSpan.FromSeconds(10) && hung.Count == 0)
        {
            hung = [.. (await Control.GetCallsAsync(null, null, null, CancellationToken.None)).Where(c => c.Fault == "hang")];
        }

        Assert.Equal(499, Assert.Single(hung).Status);
    }

    [Fact]
    public async Task Latency_delays_the_answer()
    {
        await Control.SetFaultAsync(new FaultRule { LatencyMs = 300 }, CancellationToken.None);

        var watch = Stopwatch.StartNew();
        var response = await SendAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions?page[size]=1");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.True(watch.ElapsedMilliseconds >= 300, $"answered after {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task An_error_rate_of_one_fails_every_call_and_clearing_faults_stops_it()
    {
        await Control.SetFaultAsync(new FaultRule { ErrorRate = 1, ErrorStatus = 500 }, CancellationToken.None);
        Assert.Equal(HttpStatusCode.InternalServerError, (await SendAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions")).Status);
        Assert.Equal(HttpStatusCode.InternalServerError, (await SendAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions")).Status);

        await Control.ClearFaultsAsync(CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "api/v3/resellers/1/subscriptions")).Status);
    }
}
