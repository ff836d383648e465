using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Payments;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Bridge.Tests.ActivePlatform;

/// <summary>
/// A payment listing is what a recovery lookup decides "not applied" from: a listing cut short must say so, never end as if
/// it were complete (issue 7, leftovers).
/// </summary>
public sealed class PaymentListingTests
{
    private static string Page(int page, int size, bool next)
    {
        var items = string.Join(',', Enumerable.Range(0, size).Select(i =>
            "{\"id\":\"" + ((page * 1000) + i).ToString(CultureInfo.InvariantCulture)
            + "\",\"type\":\"payments\",\"attributes\":{\"account_id\":\"1\",\"total\":\"1.0\",\"status\":\"waiting_for_payment\"}}"));
        var links = next ? ",\"links\":{\"next\":\"/api/v3/resellers/1/payments?page[number]=" + (page + 1).ToString(CultureInfo.InvariantCulture) + "\"}" : "";
        return "{\"data\":[" + items + "]" + links + "}";
    }

    private static int PageNumber(RecordedRequest request)
        => request.Query.TryGetValue("page[number]", out var number) ? int.Parse(number, CultureInfo.InvariantCulture) : 1;

    [Fact]
    public async Task A_listing_that_never_ends_fails_loudly_at_the_page_cap_instead_of_returning_what_it_read_as_complete()
    {
        await using var server = await ScriptedServer.StartAsync();
        server.Handler = (ctx, request) => ScriptedServer.Json(ctx, 200, Page(PageNumber(request), 2, next: true));
        await using var client = ActivePlatformClientFactory.Create(TestClients.Options(server.BaseUrl));
        var payments = client.Services.GetRequiredService<IPaymentsClient>();

        var read = new List<Payment>();
        var failed = await Assert.ThrowsAsync<ActivePlatformTransientException>(async () =>
        {
            await foreach (var payment in payments.ListAsync(1, new PaymentQuery { PageSize = 2, MaxPages = 3 }, CancellationToken.None))
            {
                read.Add(payment);
            }
        });

        Assert.Contains("3", failed.Message, StringComparison.Ordinal);
        Assert.Equal(6, read.Count);
    }

    [Fact]
    public async Task A_listing_whose_server_ignores_the_page_number_fails_loudly_instead_of_stopping_at_the_first_page()
    {
        await using var server = await ScriptedServer.StartAsync();
        server.Handler = (ctx, _) => ScriptedServer.Json(ctx, 200, Page(1, 2, next: true));
        await using var client = ActivePlatformClientFactory.Create(TestClients.Options(server.BaseUrl));
        var payments = client.Services.GetRequiredService<IPaymentsClient>();

        await Assert.ThrowsAsync<ActivePlatformTransientException>(async () =>
        {
            await foreach (var _ in payments.ListAsync(1, new PaymentQuery { PageSize = 2 }, CancellationToken.None))
            {
            }
        });
    }

    [Fact]
    public async Task A_listing_that_ends_with_a_short_page_is_complete()
    {
        await using var server = await ScriptedServer.StartAsync();
        server.Handler = (ctx, request) => ScriptedServer.Json(ctx, 200, PageNumber(request) < 3 ? Page(PageNumber(request), 2, next: true) : Page(3, 1, next: false));
        await using var client = ActivePlatformClientFactory.Create(TestClients.Options(server.BaseUrl));
        var payments = client.Services.GetRequiredService<IPaymentsClient>();

        var read = new List<Payment>();
        await foreach (var payment in payments.ListAsync(1, new PaymentQuery { PageSize = 2, MaxPages = 3 }, CancellationToken.None))
        {
            read.Add(payment);
        }

        Assert.Equal(5, read.Count);
    }
}
