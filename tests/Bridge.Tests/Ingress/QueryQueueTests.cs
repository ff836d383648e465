using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bridge.Contracts;
using Bridge.Sandbox;
using Bridge.Tests.DeadLetters;
using MassTransit;

namespace Bridge.Tests.Ingress;

/// <summary>
/// The query gateway over the bus, as ERPs use it: a .NET ERP with MassTransit's request client, and one with nothing but an
/// AMQP client (plain JSON, <c>reply_to</c>, <c>correlation_id</c>) — against Bridge on RabbitMQ, reading the sandbox over
/// sockets with the installation's token. Every query is answered; none is left on a queue.
/// </summary>
[Collection(DeadLetterCollection.Name)]
public sealed class QueryQueueTests(DeadLetterFixture fixture, ErpBus erp) : IClassFixture<ErpBus>
{
    private string QueryQueue => fixture.Queue(BridgeQueues.Queries);

    [Fact]
    public async Task A_dotnet_request_client_gets_an_account_and_an_account_that_does_not_exist_is_absent()
    {
        var found = await AskAsync(new QueryActivePlatform { Query = QueryKind.Accounts, Id = "523" });
        var missing = await AskAsync(new QueryActivePlatform { Query = QueryKind.Accounts, Id = "999999" });

        Assert.True(found.Is(out Response<QueryAnswered>? answered), Describe(found));
        Assert.Equal("523", answered.Message.Document.GetProperty("data").GetProperty("id").GetString());
        Assert.Equal("accounts", answered.Message.Document.GetProperty("data").GetProperty("type").GetString());
        Assert.Equal(1, answered.Message.ResellerId);
        Assert.True(missing.Is(out Response<QueryFailed>? failed), Describe(missing));
        Assert.Equal(QueryFailure.Absent, failed.Message.Failure);
        Assert.Equal(QueryKind.Accounts, failed.Message.Query);
    }

    [Fact]
    public async Task A_subscription_list_the_sandbox_serves_seven_a_page_arrives_whole_with_its_included_objects()
    {
        var uncapped = Answered(await AskAsync(new QueryActivePlatform { Query = QueryKind.Subscriptions }));
        await fixture.Sandbox.Control.SetPagingAsync(new SandboxPagingSettings { MaxPageSize = 7 }, CancellationToken.None);
        try
        {
            var capped = Answered(await AskAsync(new QueryActivePlatform { Query = QueryKind.Subscriptions, Include = ["account", "plan"] }));

            var ids = Ids(capped.Document);
            Assert.True(ids.Count > 7, $"the sandbox holds {ids.Count} subscriptions: too few to cross a page");
            Assert.Equal(Ids(uncapped.Document), ids);
            Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
            Assert.True(capped.PagesRead >= (ids.Count + 6) / 7, $"{capped.PagesRead} pages read for {ids.Count} items served 7 a page");
            Assert.NotEmpty(capped.Document.GetProperty("included").EnumerateArray());
            Assert.False(capped.Document.TryGetProperty("links", out _), "a whole list has no paging links");
        }
        finally
        {
            await fixture.Sandbox.Control.SetPagingAsync(new SandboxPagingSettings(), CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_plain_AMQP_client_gets_the_answer_on_its_own_queue_with_its_correlation_id()
    {
        await using var client = await PlainQueryClient.ConnectAsync(Infrastructure.TestEnvironment.RabbitMqUri);
        var correlationId = "1c-query-" + Guid.NewGuid().ToString("N")[..8];

        var answer = await client.AskAsync(QueryQueue, """{"query":"subscriptions","include":["account"],"filter":{"account_id":"523"}}""", correlationId);

        Assert.Equal(correlationId, answer.CorrelationId);
        Assert.Equal(nameof(QueryAnswered), answer.Type);
        Assert.Equal("application/json", answer.ContentType);
        Assert.Equal("subscriptions", (string?)answer.Body["query"]);
        var items = answer.Body["document"]!["data"]!.AsArray();
        Assert.NotEmpty(items);
        Assert.All(items, item => Assert.Equal(523, (long)item!["attributes"]!["account_id"]!));
        Assert.Contains(answer.Body["document"]!["included"]!.AsArray(), included => (string?)included!["type"] == "accounts");
        Assert.True((int)answer.Body["pagesRead"]! >= 1);
    }

    [Fact]
    public async Task A_plain_AMQP_client_may_ask_with_RabbitMQs_direct_reply_to()
    {
        await using var client = await PlainQueryClient.ConnectAsync(Infrastructure.TestEnvironment.RabbitMqUri, directReplyTo: true);

        var answer = await client.AskAsync(QueryQueue, """{"query":"accounts","id":"523"}""", "direct-1");

        Assert.Equal("direct-1", answer.CorrelationId);
        Assert.Equal("523", (string?)answer.Body["document"]!["data"]!["id"]);
    }

    [Fact]
    public async Task A_malformed_plain_query_is_answered_invalid_request_and_nothing_is_left_on_the_query_queue_or_its_error_queue()
    {
        await using var client = await PlainQueryClient.ConnectAsync(Infrastructure.TestEnvironment.RabbitMqUri);

        var notJson = await client.AskAsync(QueryQueue, "query=subscriptions", "bad-1");
        var unknownQuery = await client.AskAsync(QueryQueue, """{"query":"customers"}""", "bad-2");
        var noQuery = await client.AskAsync(QueryQueue, """{"id":"523"}""", "bad-3");
        var accountWithoutId = await client.AskAsync(QueryQueue, """{"query":"accounts"}""", "bad-4");
        var filterOnOne = await client.AskAsync(QueryQueue, """{"query":"subscriptions","id":"1","filter":{"status":"active"}}""", "bad-5");

        foreach (var answer in new[] { notJson, unknownQuery, noQuery, accountWithoutId, filterOnOne })
        {
            Assert.Equal(nameof(QueryFailed), answer.Type);
            Assert.Equal("invalid-request", (string?)answer.Body["failure"]);
            Assert.False(string.IsNullOrWhiteSpace((string?)answer.Body["message"]));
        }

        Assert.Contains("accounts", (string?)accountWithoutId.Body["message"], StringComparison.Ordinal);

        // A query after them is answered too, and by then each bad one was answered once and acknowledged: none is back on
        // the queue for another answer, none went to an error or skipped queue.
        var after = await client.AskAsync(QueryQueue, """{"query":"currency-rates"}""", "good-after");
        Assert.Equal(nameof(QueryAnswered), after.Type);
        Assert.True(client.Received.Count == 6, string.Join("\n", client.Received.Select(a => $"{a.CorrelationId} {a.Type} {a.Body.ToJsonString()}")));
        Assert.Equal(0u, await fixture.Erp.MessageCountAsync(QueryQueue));
        Assert.Null(await fixture.Erp.GetAsync(QueryQueue + "_error"));
        Assert.Null(await fixture.Erp.GetAsync(QueryQueue + "_skipped"));
    }

    [Fact]
    public async Task A_query_without_a_reply_address_is_acknowledged_not_stranded()
    {
        await using var client = await PlainQueryClient.ConnectAsync(Infrastructure.TestEnvironment.RabbitMqUri);

        await client.PublishAsync(QueryQueue, Encoding.UTF8.GetBytes("""{"query":"accounts","id":"523"}"""), "nobody", replyTo: null);
        await client.PublishAsync(QueryQueue, Encoding.UTF8.GetBytes("not json"), "nobody-either", replyTo: null);
        var after = await client.AskAsync(QueryQueue, """{"query":"accounts","id":"523"}""", "somebody");

        Assert.Equal("somebody", after.CorrelationId);
        Assert.Single(client.Received);
        Assert.Equal(0u, await fixture.Erp.MessageCountAsync(QueryQueue));
        Assert.Null(await fixture.Erp.GetAsync(QueryQueue + "_error"));
    }

    [Fact]
    public async Task A_list_ActivePlatform_refuses_for_an_unknown_filter_or_half_way_is_a_failure_never_part_of_the_list()
    {
        var unknownFilter = await AskAsync(new QueryActivePlatform { Query = QueryKind.Subscriptions, Filter = new Dictionary<string, string> { ["no_such_field"] = "1" } });
        Assert.True(unknownFilter.Is(out Response<QueryFailed>? refused), Describe(unknownFilter));
        Assert.Equal(QueryFailure.Refused, refused.Message.Failure);
        Assert.NotNull(refused.Message.Error);
        Assert.InRange(refused.Message.Error.Status, 400, 499);

        await fixture.Sandbox.Control.SetPagingAsync(new SandboxPagingSettings { MaxPageSize = 7 }, CancellationToken.None);
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { PathContains = "/subscriptions", PageNumber = 2, ErrorRate = 1, ErrorStatus = 422 }, CancellationToken.None);
        try
        {
            var halfWay = await AskAsync(new QueryActivePlatform { Query = QueryKind.Subscriptions });

            Assert.True(halfWay.Is(out Response<QueryFailed>? failed), Describe(halfWay));
            Assert.Equal(QueryFailure.Refused, failed.Message.Failure);
            Assert.Equal(422, failed.Message.Error?.Status);
            var calls = await fixture.Sandbox.Control.GetCallsAsync("GET", "/subscriptions", null, CancellationToken.None);
            Assert.Contains(calls, call => call.Status == 200);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await fixture.Sandbox.Control.SetPagingAsync(new SandboxPagingSettings(), CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_ActivePlatform_that_keeps_answering_503_slowly_is_answered_unavailable_within_the_bound()
    {
        // Each attempt takes 2.5 s and fails: ActivePlatform's own retries alone would take over 10 s to give up.
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { PathContains = "/subscriptions", ErrorRate = 1, ErrorStatus = 503, LatencyMs = 2500 }, CancellationToken.None);
        try
        {
            await using var client = await PlainQueryClient.ConnectAsync(Infrastructure.TestEnvironment.RabbitMqUri);
            var clock = Stopwatch.StartNew();

            var answer = await client.AskAsync(QueryQueue, """{"query":"subscriptions"}""", "slow-503", TimeSpan.FromSeconds(60));

            clock.Stop();
            Assert.Equal("unavailable", (string?)answer.Body["failure"]);
            Assert.True(clock.Elapsed < DeadLetterFixture.QueryAnswerWithin + TimeSpan.FromSeconds(3), $"answered after {clock.Elapsed}");
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_bus_and_the_HTTP_gateway_answer_a_failure_in_the_same_words()
    {
        using var door = fixture.Door();
        using var http = await door.GetAsync(new Uri("api/queries/accounts/999999", UriKind.Relative));
        var bus = await AskAsync(new QueryActivePlatform { Query = QueryKind.Accounts, Id = "999999" });

        Assert.Equal(System.Net.HttpStatusCode.NotFound, http.StatusCode);
        Assert.True(bus.Is(out Response<QueryFailed>? failed), Describe(bus));
        Assert.Equal((string?)JsonNode.Parse(await http.Content.ReadAsStringAsync())!["detail"], failed.Message.Message);
    }

    private async Task<Response<QueryAnswered, QueryFailed>> AskAsync(QueryActivePlatform query)
    {
        var client = erp.Bus.CreateRequestClient<QueryActivePlatform>(new Uri($"queue:{QueryQueue}"), RequestTimeout.After(s: 60));
        return await client.GetResponse<QueryAnswered, QueryFailed>(query);
    }

    private static QueryAnswered Answered(Response<QueryAnswered, QueryFailed> response)
    {
        Assert.True(response.Is(out Response<QueryAnswered>? answered), Describe(response));
        return answered.Message;
    }

    private static List<string> Ids(JsonElement document) =>
        [.. document.GetProperty("data").EnumerateArray().Select(item => item.GetProperty("id").GetString()!)];

    private static string Describe(Response<QueryAnswered, QueryFailed> response) =>
        response.Is(out Response<QueryFailed>? failed) ? $"failed: {failed.Message.Failure} {failed.Message.Message}" : "answered";
}
