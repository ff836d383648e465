using System.Globalization;
using System.Text.Json;
using Bridge.ActivePlatform.Queries;
using Bridge.Contracts;
using Bridge.Host.Admin;
using Bridge.Host.Queries;

namespace Bridge.Host.Ingress;

/// <summary>
/// The query gateway over HTTP (issue 10 §2): ERPs that read ActivePlatform — an account, the subscriptions they bill, the
/// invoices and charges closing documents are built from, the payments they reconcile, currency rates, orders — ask Bridge,
/// with the same ERP key as the door. Each route becomes a <see cref="QueryActivePlatform"/>, the request the query queue
/// takes, and is read by the same <see cref="QueryReader"/>: the installation's token (never handed out), the shared rate
/// limit, and every page of a list or none. Answers are ActivePlatform's JSON:API documents as read, all pages in one
/// <c>data</c>; a failure is the <see cref="QueryFailure"/> the queue would answer, as a problem with its status. Nothing is cached.
/// </summary>
public static class QueryGateway
{
    /// <summary>How many pages the gateway reads of one list before it refuses (a list that long is a job for an export).</summary>
    public const int MaxPages = QueryReader.MaxPages;

    public static WebApplication MapBridgeQueries(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup("/api/queries")
            .RequireAuthorization(IngressKeyAuthenticationHandler.Policy)
            .WithTags("Queries")
            .Refuses(StatusCodes.Status400BadRequest, "The query itself is wrong (e.g. a reseller id that is not positive).")
            .Refuses(StatusCodes.Status401Unauthorized, "No ERP key, or one that is not configured.")
            .Refuses(StatusCodes.Status403Forbidden, "Bridge's ActivePlatform token does not reach this reseller.")
            .Refuses(StatusCodes.Status502BadGateway, "ActivePlatform refused the read, or its listing was incomplete.")
            .Refuses(StatusCodes.Status503ServiceUnavailable, "ActivePlatform did not answer; try again later.");

        group.MapGet("/accounts/{accountId:long}", (long accountId, long? resellerId, HttpContext http, CancellationToken ct) =>
                AnswerAsync(http, new QueryActivePlatform { Query = QueryKind.Accounts, ResellerId = resellerId, Id = accountId.ToString(CultureInfo.InvariantCulture) }, ct))
            .Describe("getAccount", "An account of a downstream reseller, as ActivePlatform has it.")
            .Refuses(StatusCodes.Status404NotFound, "No such account.");
        group.MapGet("/subscriptions", (long? resellerId, HttpContext http, CancellationToken ct) =>
                AnswerAsync(http, ListRequestOf(QueryKind.Subscriptions, resellerId, http.Request.Query), ct))
            .Describe("listSubscriptions", "Every subscription matching the filters, all pages read (`include`, `meta`, `sort`, `filter[...]` as ActivePlatform takes them).");
        group.MapGet("/subscriptions/{id}", (string id, long? resellerId, string? include, HttpContext http, CancellationToken ct) =>
                AnswerAsync(http, new QueryActivePlatform { Query = QueryKind.Subscriptions, ResellerId = resellerId, Id = id, Include = Split(include) }, ct))
            .Describe("getSubscription", "One subscription.")
            .Refuses(StatusCodes.Status404NotFound, "No such subscription.");
        group.MapGet("/invoices", (long? resellerId, HttpContext http, CancellationToken ct) =>
                AnswerAsync(http, ListRequestOf(QueryKind.Invoices, resellerId, http.Request.Query), ct))
            .Describe("listInvoices", "Every invoice matching the filters, all pages read; `include=charges` brings the charges closing documents are built from.");
        group.MapGet("/invoices/{id}", (string id, long? resellerId, string? include, HttpContext http, CancellationToken ct) =>
                AnswerAsync(http, new QueryActivePlatform { Query = QueryKind.Invoices, ResellerId = resellerId, Id = id, Include = Split(include) }, ct))
            .Describe("getInvoice", "One invoice (`include=charges,payments`).")
            .Refuses(StatusCodes.Status404NotFound, "No such invoice.");
        group.MapGet("/payments", (long? resellerId, HttpContext http, CancellationToken ct) =>
                AnswerAsync(http, ListRequestOf(QueryKind.Payments, resellerId, http.Request.Query), ct))
            .Describe("listPayments", "Every payment matching the filters, all pages read (reconciliation).");
        group.MapGet("/payments/{id}", (string id, long? resellerId, string? include, HttpContext http, CancellationToken ct) =>
                AnswerAsync(http, new QueryActivePlatform { Query = QueryKind.Payments, ResellerId = resellerId, Id = id, Include = Split(include) }, ct))
            .Describe("getPayment", "One payment.")
            .Refuses(StatusCodes.Status404NotFound, "No such payment.");
        group.MapGet("/currency-rates", (long? resellerId, HttpContext http, CancellationToken ct) =>
                AnswerAsync(http, new QueryActivePlatform { Query = QueryKind.CurrencyRates, ResellerId = resellerId }, ct))
            .Describe("getCurrencyRates", "The reseller's currency rates.");
        group.MapGet("/orders", (long? resellerId, HttpContext http, CancellationToken ct) =>
                AnswerAsync(http, ListRequestOf(QueryKind.Orders, resellerId, http.Request.Query), ct))
            .Describe("listOrders", "Every order matching the filters, all pages read.");
        group.MapGet("/orders/{id}", (string id, long? resellerId, HttpContext http, CancellationToken ct) =>
                AnswerAsync(http, new QueryActivePlatform { Query = QueryKind.Orders, ResellerId = resellerId, Id = id }, ct))
            .Describe("getOrder", "One order.")
            .Refuses(StatusCodes.Status404NotFound, "No such order.");
        return app;
    }

    /// <summary>A list route's request: the query string as ActivePlatform takes it — <c>include</c>, <c>meta</c>, <c>sort</c>, <c>filter[…]</c>.</summary>
    public static QueryActivePlatform ListRequestOf(QueryKind query, long? resellerId, IQueryCollection parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var filters = parameters
            .Where(pair => pair.Key.StartsWith("filter[", StringComparison.Ordinal))
            .ToDictionary(pair => pair.Key, pair => pair.Value.ToString(), StringComparer.Ordinal);
        return new QueryActivePlatform
        {
            Query = query,
            ResellerId = resellerId,
            Include = Split(parameters["include"].ToString()),
            Meta = string.Equals(parameters["meta"].ToString(), "true", StringComparison.OrdinalIgnoreCase) ? true : null,
            Sort = parameters["sort"].ToString() is { Length: > 0 } sort ? sort : null,
            Filter = filters.Count > 0 ? filters : null,
        };
    }

    private static IReadOnlyList<string>? Split(string? include) =>
        string.IsNullOrWhiteSpace(include) ? null : include.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<IResult> AnswerAsync(HttpContext http, QueryActivePlatform query, CancellationToken cancellationToken)
    {
        switch (await http.RequestServices.GetRequiredService<QueryReader>().ReadAsync(query, cancellationToken))
        {
            case QueryOutcome.Found found:
                if (found.PagesRead is { } pages)
                {
                    http.Response.Headers["Bridge-Pages-Read"] = pages.ToString(CultureInfo.InvariantCulture);
                }

                if (found.Age is { } age)
                {
                    // RFC 9111 §5.1: how long ago the origin (ActivePlatform) gave this answer, in whole seconds.
                    http.Response.Headers.Age = ((long)age.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                }

                return Results.Text(JsonSerializer.Serialize(found.Document, found.Document.GetType(), QueryJson.Options), "application/vnd.api+json");
            case QueryOutcome.Failed { Failure: var failure, Message: var message }:
                var (status, title) = ProblemOf(failure);
                if (failure == QueryFailure.Unavailable)
                {
                    http.Response.Headers.RetryAfter = "5";
                }

                return Results.Problem(statusCode: status, title: title, detail: message);
            default:
                throw new InvalidOperationException("A query came to neither a document nor a failure.");
        }
    }

    /// <summary>The HTTP status and title of each way a query fails.</summary>
    public static (int Status, string Title) ProblemOf(QueryFailure failure) => failure switch
    {
        QueryFailure.Absent => (StatusCodes.Status404NotFound, "Not found"),
        QueryFailure.NotReachable => (StatusCodes.Status403Forbidden, "Reseller not reachable"),
        QueryFailure.Refused => (StatusCodes.Status502BadGateway, "ActivePlatform refused the read"),
        QueryFailure.Incomplete => (StatusCodes.Status502BadGateway, "Incomplete listing"),
        QueryFailure.InvalidRequest => (StatusCodes.Status400BadRequest, "Invalid query"),
        _ => (StatusCodes.Status503ServiceUnavailable, "ActivePlatform did not answer"),
    };
}
