using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Queries;
using Bridge.Tests.ActivePlatform;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Queries;

/// <summary>
/// Paging against a scripted server that pages badly or unusually: a list is read whole or the read fails loudly, never
/// returned in part as if complete.
/// </summary>
public sealed class PagingAgainstMisbehavingServerTests : IAsyncLifetime
{
    private const string Orders = "/api/v3/resellers/1/orders";
    private ScriptedServer _server = null!;
    private StandaloneActivePlatformClient _client = null!;

    private IActivePlatformQueries Queries => _client.Services.GetRequiredService<IActivePlatformQueries>();

    public async Task InitializeAsync()
    {
        _server = await ScriptedServer.StartAsync();
        _client = ActivePlatformClientFactory.Create(TestClients.Options(_server.BaseUrl));
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static string Page(params int[] ids) =>
        "[" + string.Join(',', ids.Select(id => "{\"id\":\"" + id + "\",\"type\":\"orders\",\"attributes\":{\"total\":\"1.0\"}}")) + "]";

    /// <summary>A list document: <c>data</c>, then any other members as given.</summary>
    private static string Doc(string data, string? rest = null) => "{\"data\":" + data + (rest is null ? "" : "," + rest) + "}";

    private static int Number(RecordedRequest request) => int.Parse(request.Query["page[number]"], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_server_that_ignores_page_number_fails_the_read_instead_of_looping_or_doubling()
    {
        _server.Handler = (ctx, _) => ScriptedServer.Json(ctx, 200, Doc(Page(1, 2)));

        var refused = await Assert.ThrowsAsync<IncompleteListingException>(() => Queries.ListOrdersAsync(1, new ListQuery { PageSize = 2 }, CancellationToken.None));

        Assert.Contains("repeats orders 1", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, _server.Requests.Count);
        Assert.DoesNotContain(TestClients.Token, refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_total_announced_in_meta_and_not_served_fails_the_read()
    {
        _server.Handler = (ctx, request) => ScriptedServer.Json(ctx, 200, Number(request) switch
        {
            1 => Doc(Page(1, 2), "\"meta\":{\"record_count\":5}"),
            2 => Doc(Page(3, 4), "\"meta\":{\"record_count\":5}"),
            _ => """{"data":[],"meta":{"record_count":5}}""",
        });

        var refused = await Assert.ThrowsAsync<IncompleteListingException>(() => Queries.ListOrdersAsync(1, new ListQuery { PageSize = 10 }, CancellationToken.None));

        Assert.Contains("announced 5 orders but its pages held 4", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_next_link_that_goes_back_fails_the_read()
    {
        _server.Handler = (ctx, request) => ScriptedServer.Json(ctx, 200, Number(request) switch
        {
            1 => Doc(Page(1), """ "links":{"next":"http://elsewhere/api/v3/resellers/1/orders?page%5Bnumber%5D=2&page%5Bsize%5D=1"}"""),
            _ => Doc(Page(2), """ "links":{"next":"http://elsewhere/api/v3/resellers/1/orders?page%5Bnumber%5D=1&page%5Bsize%5D=1"}"""),
        });

        var refused = await Assert.ThrowsAsync<IncompleteListingException>(() => Queries.ListOrdersAsync(1, new ListQuery { PageSize = 1 }, CancellationToken.None));

        Assert.Contains("links to page 1", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_documented_next_link_is_followed_on_the_configured_installation_with_the_size_it_names()
    {
        // The documented links: absolute, another host, brackets percent-encoded; the server serves 2 of the 50 asked.
        _server.Handler = (ctx, request) =>
        {
            var number = Number(request);
            var next = number < 3 ? ",\"next\":\"https://test.activeplatform.com/api/v3/resellers/1/orders?include=&page%5Bnumber%5D=" + (number + 1) + "&page%5Bsize%5D=2\"" : "";
            return ScriptedServer.Json(ctx, 200, Doc(Page((number * 2) - 1, number * 2), "\"links\":{\"self\":\"x\"" + next + "}"));
        };

        var all = await Queries.ListOrdersAsync(1, new ListQuery { PageSize = 50 }, CancellationToken.None);

        Assert.Equal(["1", "2", "3", "4", "5", "6"], all.Data.Select(o => o.Id));
        Assert.Equal(PagingEvidence.NextLinks, all.Evidence);
        Assert.Equal(["50", "2", "2"], _server.Requests.Select(r => r.Query["page[size]"]));
        Assert.All(_server.Requests, r => Assert.Equal(Orders, r.Path));
    }

    [Fact]
    public async Task Without_links_or_a_total_a_short_first_page_costs_one_more_request_to_tell_the_end_from_a_cap()
    {
        _server.Handler = (ctx, request) => ScriptedServer.Json(ctx, 200, Number(request) == 1 ? Doc(Page(1, 2, 3)) : """{"data":[]}""");

        var all = await Queries.ListOrdersAsync(1, new ListQuery { PageSize = 50 }, CancellationToken.None);

        Assert.Equal(3, all.Data.Count);
        Assert.Equal(PagingEvidence.ItemCounts, all.Evidence);
        Assert.Equal([1, 2], _server.Requests.Select(Number));
    }

    [Fact]
    public async Task Pages_of_different_sizes_after_a_short_one_fail_the_read()
    {
        _server.Handler = (ctx, request) => ScriptedServer.Json(ctx, 200, Number(request) == 1 ? Doc(Page(1, 2)) : Doc(Page(3, 4, 5)));

        var refused = await Assert.ThrowsAsync<IncompleteListingException>(() => Queries.ListOrdersAsync(1, new ListQuery { PageSize = 50 }, CancellationToken.None));

        Assert.Contains("has 3 items after a page of 2", refused.Message, StringComparison.Ordinal);
    }
}
