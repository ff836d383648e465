using System.Text.Json;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Queries;
using Bridge.Host.Admin;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Ingress;

/// <summary>
/// The query gateway over HTTP (issue 10 §2): ERPs that read ActivePlatform — an account, the subscriptions they bill, the
/// invoices and charges closing documents are built from, the payments they reconcile, currency rates, orders — ask Bridge,
/// with the same ERP key as the door. Bridge reads through its own client: the installation's token (never handed out), the
/// shared rate limit, and every page of a list (<see cref="IActivePlatformQueries"/> fails rather than return part of one).
/// Answers are ActivePlatform's JSON:API documents as read, all pages in one <c>data</c>. Nothing is cached.
/// </summary>
public static class QueryGateway
{
    /// <summary>How many pages the gateway reads of one list before it refuses (a list that long is a job for an export).</summary>
    public const int MaxPages = 200;

    public static WebApplication MapBridgeQueries(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup("/api/queries")
            .RequireAuthorization(IngressKeyAuthenticationHandler.Policy)
            .WithTags("Queries")
            .Refuses(StatusCodes.Status401Unauthorized, "No ERP key, or one that is not configured.")
            .Refuses(StatusCodes.Status403Forbidden, "Bridge's ActivePlatform token does not reach this reseller.")
            .Refuses(StatusCodes.Status502BadGateway, "ActivePlatform refused the read, or its listing was incomplete.")
            .Refuses(StatusCodes.Status503ServiceUnavailable, "ActivePlatform did not answer; try again later.");

        group.MapGet("/accounts/{accountId:long}", (long accountId, long? resellerId, HttpContext http, CancellationToken ct) =>
                OneAsync(http, resellerId, (q, r) => q.GetChildResellerAccountAsync(r, accountId, ct)))
            .Describe("getAccount", "An account of a downstream reseller, as ActivePlatform has it.")
            .Refuses(StatusCodes.Status404NotFound, "No such account.");
        group.MapGet("/subscriptions", (long? resellerId, HttpContext http, CancellationToken ct) =>
                ListAsync(http, resellerId, (q, r, query) => q.ListSubscriptionsAsync(r, query, ct)))
            .Describe("listSubscriptions", "Every subscription matching the filters, all pages read (`include`, `meta`, `sort`, `filter[...]` as ActivePlatform takes them).");
        group.MapGet("/subscriptions/{id}", (string id, long? resellerId, string? include, HttpContext http, CancellationToken ct) =>
                OneAsync(http, resellerId, (q, r) => q.GetSubscriptionAsync(r, id, Split(include), ct)))
            .Describe("getSubscription", "One subscription.")
            .Refuses(StatusCodes.Status404NotFound, "No such subscription.");
        group.MapGet("/invoices", (long? resellerId, HttpContext http, CancellationToken ct) =>
                ListAsync(http, resellerId, (q, r, query) => q.ListInvoicesAsync(r, query, ct)))
            .Describe("listInvoices", "Every invoice matching the filters, all pages read; `include=charges` brings the charges closing documents are built from.");
        group.MapGet("/invoices/{id}", (string id, long? resellerId, string? include, HttpContext http, CancellationToken ct) =>
                OneAsync(http, resellerId, (q, r) => q.GetInvoiceAsync(r, id, Split(include), ct)))
            .Describe("getInvoice", "One invoice (`include=charges,payments`).")
            .Refuses(StatusCodes.Status404NotFound, "No such invoice.");
        group.MapGet("/payments", (long? resellerId, HttpContext http, CancellationToken ct) =>
                ListAsync(http, resellerId, (q, r, query) => q.ListPaymentsAsync(r, query, ct)))
            .Describe("listPayments", "Every payment matching the filters, all pages read (reconciliation).");
        group.MapGet("/payments/{id}", (string id, long? resellerId, string? include, HttpContext http, CancellationToken ct) =>
                OneAsync(http, resellerId, (q, r) => q.GetPaymentAsync(r, id, Split(include), ct)))
            .Describe("getPayment", "One payment.")
            .Refuses(StatusCodes.Status404NotFound, "No such payment.");
        group.MapGet("/currency-rates", (long? resellerId, HttpContext http, CancellationToken ct) =>
                OneAsync(http, resellerId, async (q, r) => (object?)await q.GetCurrencyRatesAsync(r, ct)))
            .Describe("getCurrencyRates", "The reseller's currency rates.");
        group.MapGet("/orders", (long? resellerId, HttpContext http, CancellationToken ct) =>
                ListAsync(http, resellerId, (q, r, query) => q.ListOrdersAsync(r, query, ct)))
            .Describe("listOrders", "Every order matching the filters, all pages read.");
        group.MapGet("/orders/{id}", (string id, long? resellerId, HttpContext http, CancellationToken ct) =>
                OneAsync(http, resellerId, (q, r) => q.GetOrderAsync(r, id, ct)))
            .Describe("getOrder", "One order.")
            .Refuses(StatusCodes.Status404NotFound, "No such order.");
        return app;
    }

    /// <summary>The query string as ActivePlatform takes it: <c>include</c>, <c>meta</c>, <c>sort</c>, <c>filter[…]</c>.</summary>
    public static ListQuery ListQueryOf(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var filters = query
            .Where(pair => pair.Key.StartsWith("filter[", StringComparison.Ordinal))
            .ToDictionary(pair => pair.Key, pair => pair.Value.ToString(), StringComparer.Ordinal);
        return new ListQuery
        {
            Include = Split(query["include"].ToString()),
            Meta = string.Equals(query["meta"].ToString(), "true", StringComparison.OrdinalIgnoreCase),
            Sort = query["sort"].ToString() is { Length: > 0 } sort ? sort : null,
            Filters = filters.Count > 0 ? filters : null,
            MaxPages = MaxPages,
        };
    }

    private static IReadOnlyList<string>? Split(string? include) =>
        string.IsNullOrWhiteSpace(include) ? null : include.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Task<IResult> ListAsync<TResource>(HttpContext http, long? resellerId, Func<IActivePlatformQueries, long, ListQuery, Task<AllPages<TResource>>> read)
        where TResource : JsonApiResource =>
        AnswerAsync(http, resellerId, async (queries, reseller) =>
        {
            var pages = await read(queries, reseller, ListQueryOf(http.Request.Query));
            http.Response.Headers["Bridge-Pages-Read"] = pages.PagesRead.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return pages.ToDocument();
        });

    private static Task<IResult> OneAsync<T>(HttpContext http, long? resellerId, Func<IActivePlatformQueries, long, Task<T?>> read)
        where T : class =>
        AnswerAsync(http, resellerId, async (queries, reseller) => await read(queries, reseller));

    private static async Task<IResult> AnswerAsync(HttpContext http, long? resellerId, Func<IActivePlatformQueries, long, Task<object?>> read)
    {
        var services = http.RequestServices;
        var reseller = resellerId ?? services.GetRequiredService<IOptions<ActivePlatformOptions>>().Value.ResellerId;
        try
        {
            var document = await read(services.GetRequiredService<IActivePlatformQueries>(), reseller);
            return document is null
                ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: "ActivePlatform has no such object for this reseller.")
                : Results.Text(JsonSerializer.Serialize(document, document.GetType(), QueryJson.Options), "application/vnd.api+json");
        }
        catch (ResellerNotReachableException)
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Reseller not reachable",
                detail: $"Bridge's ActivePlatform token does not reach reseller {reseller}.");
        }
        catch (IncompleteListingException ex)
        {
            // Never part of a list passed off as all of it.
            return Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Incomplete listing", detail: ex.Message);
        }
        catch (ActivePlatformPermanentException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "ActivePlatform refused the read",
                detail: $"ActivePlatform answered {ex.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing"}{(ex.Title is null ? "" : ": " + ex.Title)}.");
        }
        catch (ActivePlatformException)
        {
            http.Response.Headers.RetryAfter = "5";
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "ActivePlatform did not answer", detail: "Try again later.");
        }
    }
}
