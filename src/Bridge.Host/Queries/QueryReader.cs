using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Queries;
using Bridge.Contracts;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Queries;

/// <summary>What a query came to: ActivePlatform's document, or why there is none.</summary>
public abstract record QueryOutcome
{
    private QueryOutcome()
    {
    }

    /// <summary>ActivePlatform's document (a list whole, with <see cref="PagesRead"/>; one object with null).</summary>
    /// <remarks><see cref="Age"/>: how long ago ActivePlatform gave it, when it comes from the cache (<see cref="QueryCache"/>); null when just read.</remarks>
    public sealed record Found(object Document, int? PagesRead, TimeSpan? Age = null) : QueryOutcome;

    /// <summary>No document: the failure and a message for a person, naming no secret.</summary>
    public sealed record Failed(QueryFailure Failure, string Message, ActivePlatformError? Error = null) : QueryOutcome;
}

/// <summary>
/// The one reading of a query, behind both doors — HTTP GET (<c>QueryGateway</c>) and the query queue
/// (<see cref="QueryConsumer"/>) — so that both say the same thing in the same words: the request checked, the read made
/// through <see cref="IActivePlatformQueries"/> (the installation's token, the shared rate limit, every page of a list or
/// none), and every way it can fail named as a <see cref="QueryFailure"/>. A document is kept for the next same query only
/// when <c>Bridge:Queries:CacheFor</c> asks for it (<see cref="QueryCache"/>); a failure never is.
/// </summary>
public sealed class QueryReader(IActivePlatformQueries queries, IOptions<ActivePlatformOptions> activePlatform, QueryCache? cache = null)
{
    /// <summary>How many pages of one list are read before the query is refused (a list that long is a job for an export).</summary>
    public const int MaxPages = 200;

    /// <summary>The reseller a query reads as: its own, else the configured default.</summary>
    public long ResellerOf(QueryActivePlatform query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return query.ResellerId ?? activePlatform.Value.ResellerId;
    }

    /// <summary>
    /// Reads what <paramref name="query"/> asks. ActivePlatform's failures come back as <see cref="QueryOutcome.Failed"/>;
    /// a cancellation is the caller's and is thrown.
    /// </summary>
    public async Task<QueryOutcome> ReadAsync(QueryActivePlatform query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (Problem(query) is { } problem)
        {
            return new QueryOutcome.Failed(QueryFailure.InvalidRequest, problem);
        }

        var reseller = ResellerOf(query);
        if (cache?.Find(query, reseller) is { } kept)
        {
            return kept;
        }

        var outcome = await ReadFromActivePlatformAsync(query, reseller, cancellationToken);
        if (outcome is QueryOutcome.Found found)
        {
            cache?.Store(query, reseller, found);
        }

        return outcome;
    }

    private async Task<QueryOutcome> ReadFromActivePlatformAsync(QueryActivePlatform query, long reseller, CancellationToken cancellationToken)
    {
        try
        {
            return query switch
            {
                { Query: QueryKind.Accounts } => One(await queries.GetChildResellerAccountAsync(reseller, long.Parse(query.Id!, CultureInfo.InvariantCulture), cancellationToken), reseller),
                { Query: QueryKind.CurrencyRates } => One(await queries.GetCurrencyRatesAsync(reseller, cancellationToken), reseller),
                { Query: QueryKind.Subscriptions, Id: { } id } => One(await queries.GetSubscriptionAsync(reseller, id, query.Include, cancellationToken), reseller),
                { Query: QueryKind.Subscriptions } => List(await queries.ListSubscriptionsAsync(reseller, ListQueryOf(query), cancellationToken)),
                { Query: QueryKind.Invoices, Id: { } id } => One(await queries.GetInvoiceAsync(reseller, id, query.Include, cancellationToken), reseller),
                { Query: QueryKind.Invoices } => List(await queries.ListInvoicesAsync(reseller, ListQueryOf(query), cancellationToken)),
                { Query: QueryKind.Payments, Id: { } id } => One(await queries.GetPaymentAsync(reseller, id, query.Include, cancellationToken), reseller),
                { Query: QueryKind.Payments } => List(await queries.ListPaymentsAsync(reseller, ListQueryOf(query), cancellationToken)),
                { Query: QueryKind.Orders, Id: { } id } => One(await queries.GetOrderAsync(reseller, id, cancellationToken), reseller),
                { Query: QueryKind.Orders } => List(await queries.ListOrdersAsync(reseller, ListQueryOf(query), cancellationToken)),
                _ => throw new InvalidOperationException($"Query {query.Query} passed the checks but has no read."),
            };
        }
        catch (ResellerNotReachableException)
        {
            return new QueryOutcome.Failed(QueryFailure.NotReachable, $"Bridge's ActivePlatform token does not reach reseller {reseller}.");
        }
        catch (IncompleteListingException ex)
        {
            // Never part of a list passed off as all of it. The message describes the paging, not the request's headers.
            return new QueryOutcome.Failed(QueryFailure.Incomplete, $"The list could not be read to its end: {ex.Message}");
        }
        catch (ActivePlatformPermanentException ex)
        {
            var status = ex.Status?.ToString(CultureInfo.InvariantCulture) ?? "nothing";
            return new QueryOutcome.Failed(
                QueryFailure.Refused,
                $"ActivePlatform refused the read: it answered {status}{(ex.Title is null ? "" : ": " + ex.Title)}.",
                ex.Status is { } code ? new ActivePlatformError(ex.Title, code, ex.Code) : null);
        }
        catch (ActivePlatformException)
        {
            return Unavailable;
        }
    }

    /// <summary>ActivePlatform did not answer (in time, or other than with a transient error).</summary>
    public static QueryOutcome.Failed Unavailable { get; } = new(QueryFailure.Unavailable, "ActivePlatform did not answer; try again later.");

    /// <summary>What is wrong with the request itself, or null. The same rules for both doors.</summary>
    public static string? Problem(QueryActivePlatform query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!Enum.IsDefined(query.Query))
        {
            return "query is required: one of accounts, subscriptions, invoices, payments, currency-rates, orders.";
        }

        var name = WireName(query.Query);
        if (query.ResellerId is <= 0)
        {
            return "resellerId must be a positive number.";
        }

        if (query.Id is { } id && string.IsNullOrWhiteSpace(id))
        {
            return "id must not be empty.";
        }

        if (query.Query == QueryKind.Accounts && !long.TryParse(query.Id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return "accounts needs the account's id, a number.";
        }

        if (query.Query == QueryKind.CurrencyRates && query.Id is not null)
        {
            return "currency-rates takes no id.";
        }

        var one = query.Id is not null || query.Query == QueryKind.CurrencyRates;
        if (one && (query.Meta is not null || query.Filter is not null || query.Sort is not null))
        {
            return $"meta, filter and sort go with a list; {name} {(query.Id is null ? "" : "with an id ")}reads one object.";
        }

        if (query.Include is { Count: > 0 } && (query.Query is QueryKind.Accounts or QueryKind.CurrencyRates || (query.Query == QueryKind.Orders && one)))
        {
            return $"include does not go with {name}{(query.Id is null ? "" : " by id")}.";
        }

        if (query.Include?.Any(string.IsNullOrWhiteSpace) == true || query.Filter?.Keys.Any(string.IsNullOrWhiteSpace) == true)
        {
            return "include and filter take no empty names.";
        }

        return null;
    }

    /// <summary>The query's name on the wire and in the HTTP path, e.g. <c>currency-rates</c>.</summary>
    public static string WireName(QueryKind query) =>
        System.Text.Json.JsonSerializer.Serialize(query).Trim('"');

    private static ListQuery ListQueryOf(QueryActivePlatform query) => new()
    {
        Include = query.Include,
        Meta = query.Meta == true,
        Filters = query.Filter,
        Sort = query.Sort,
        MaxPages = MaxPages,
    };

    private static QueryOutcome List<TResource>(AllPages<TResource> pages)
        where TResource : JsonApiResource =>
        new QueryOutcome.Found(pages.ToDocument(), pages.PagesRead);

    private static QueryOutcome One(object? document, long reseller) =>
        document is null
            ? new QueryOutcome.Failed(QueryFailure.Absent, $"ActivePlatform has no such object for reseller {reseller}.")
            : new QueryOutcome.Found(document, null);
}
