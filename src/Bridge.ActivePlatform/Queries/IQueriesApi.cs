using Bridge.ActivePlatform.Api;
using Bridge.ActivePlatform.CurrencyRates;
using Bridge.ActivePlatform.Invoices;
using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Operations;
using Bridge.ActivePlatform.Payments;
using Refit;

namespace Bridge.ActivePlatform.Queries;

/// <summary>
/// The reads of the query gateway, paths as api-coverage.txt lists them. Every method answers <see cref="IApiResponse{T}"/>:
/// a 404 is an expected answer that <see cref="ActivePlatformQueries"/> reads (after confirming the reseller). Lists share one
/// shape: <c>include</c>, <c>meta</c>, <c>filter[…]</c> (complete keys), <c>sort</c>, <c>page[size]</c>, <c>page[number]</c>.
/// </summary>
[Headers("Accept: " + ActivePlatformMediaType.JsonApi)]
public interface IQueriesApi
{
    [Get("/api/v3/resellers/{resellerId}/child_reseller_accounts/{accountId}")]
    Task<IApiResponse<JsonApiResourceDocument<Account>>> GetChildResellerAccountAsync(long resellerId, long accountId, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/subscriptions")]
    Task<IApiResponse<JsonApiDocument<Subscription>>> ListSubscriptionsAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/subscriptions/{subscriptionId}")]
    Task<IApiResponse<JsonApiResourceDocument<Subscription>>> GetSubscriptionAsync(
        long resellerId, string subscriptionId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, CancellationToken cancellationToken);

    // inferred: include=charges,payments,subscriptions,corrections on invoices (the relationships the documented invoice names;
    // include=charges is what the unofficial support script asks for).
    [Get("/api/v3/resellers/{resellerId}/invoices")]
    Task<IApiResponse<JsonApiDocument<Invoice>>> ListInvoicesAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/invoices/{invoiceId}")]
    Task<IApiResponse<JsonApiResourceDocument<Invoice>>> GetInvoiceAsync(long resellerId, string invoiceId, [AliasAs("include")] string? include, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/charges")]
    Task<IApiResponse<JsonApiDocument<Charge>>> ListChargesAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/charges/{chargeId}")]
    Task<IApiResponse<JsonApiResourceDocument<Charge>>> GetChargeAsync(long resellerId, string chargeId, [AliasAs("include")] string? include, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/payments")]
    Task<IApiResponse<JsonApiDocument<Payment>>> ListPaymentsAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/payments/{paymentId}")]
    Task<IApiResponse<JsonApiResourceDocument<Payment>>> GetPaymentAsync(long resellerId, string paymentId, [AliasAs("include")] string? include, CancellationToken cancellationToken);

    /// <summary>One object, not a list (REFERENCE.md §3.1).</summary>
    [Get("/api/v3/resellers/{resellerId}/currency_rates")]
    Task<IApiResponse<JsonApiResourceDocument<ResellerCurrencyRates>>> GetCurrencyRatesAsync(long resellerId, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/orders")]
    Task<IApiResponse<JsonApiDocument<Order>>> ListOrdersAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/orders/{orderId}")]
    Task<IApiResponse<JsonApiResourceDocument<Order>>> GetOrderAsync(long resellerId, string orderId, [AliasAs("include")] string? include, CancellationToken cancellationToken);

    /// <summary>The reseller itself: the token's own or one below it.</summary>
    [Get("/api/v3/resellers/{resellerId}")]
    Task<IApiResponse<JsonApiResourceDocument<Reseller>>> GetResellerAsync(long resellerId, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/child_resellers")]
    Task<IApiResponse<JsonApiDocument<Reseller>>> ListChildResellersAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/accounts")]
    Task<IApiResponse<JsonApiDocument<Account>>> ListAccountsAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/accounts/{accountId}")]
    Task<IApiResponse<JsonApiResourceDocument<Account>>> GetAccountAsync(long resellerId, long accountId, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/plans")]
    Task<IApiResponse<JsonApiDocument<Plan>>> ListPlansAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/plans/{planId}")]
    Task<IApiResponse<JsonApiResourceDocument<Plan>>> GetPlanAsync(long resellerId, string planId, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/managers")]
    Task<IApiResponse<JsonApiDocument<Manager>>> ListManagersAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/managers/{managerId}")]
    Task<IApiResponse<JsonApiResourceDocument<Manager>>> GetManagerAsync(long resellerId, string managerId, CancellationToken cancellationToken);

    // inferred: the objects of the endpoints below are not in the documents read for this client; they are read raw (UnknownResource).
    [Get("/api/v3/resellers/{resellerId}/manager_roles")]
    Task<IApiResponse<JsonApiDocument<UnknownResource>>> ListManagerRolesAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/account_attributes")]
    Task<IApiResponse<JsonApiDocument<UnknownResource>>> ListAccountAttributesAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/plans/{planId}/switchable_plans")]
    Task<IApiResponse<JsonApiDocument<Plan>>> ListSwitchablePlansAsync(
        long resellerId, string planId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/plans/{planId}/order_attributes")]
    Task<IApiResponse<JsonApiDocument<UnknownResource>>> ListOrderAttributesAsync(
        long resellerId, string planId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/notes")]
    Task<IApiResponse<JsonApiDocument<UnknownResource>>> ListNotesAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/notes/{noteId}")]
    Task<IApiResponse<JsonApiResourceDocument<UnknownResource>>> GetNoteAsync(long resellerId, string noteId, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/free_access_documents")]
    Task<IApiResponse<JsonApiDocument<UnknownResource>>> ListFreeAccessDocumentsAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    // inferred: the Customer Store, analytics and user-authentication pages were not read; paths as api-coverage.txt lists them,
    // the same token, the list parameters every list takes. The Customer Store and analytics objects are typed where the
    // documented plan object says something of them (products, categories), raw (UnknownResource) where nothing is known.
    [Get("/api/v3/customer_store/resellers")]
    Task<IApiResponse<JsonApiDocument<Reseller>>> ListCustomerStoreResellersAsync(
        [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/customer_store/resellers/{resellerId}")]
    Task<IApiResponse<JsonApiResourceDocument<Reseller>>> GetCustomerStoreResellerAsync(long resellerId, CancellationToken cancellationToken);

    [Get("/api/v3/customer_store/resellers/{resellerId}/product_categories")]
    Task<IApiResponse<JsonApiDocument<ProductCategory>>> ListProductCategoriesAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/customer_store/resellers/{resellerId}/products")]
    Task<IApiResponse<JsonApiDocument<Product>>> ListProductsAsync(
        long resellerId, [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/customer_store/resellers/{resellerId}/products/{productId}")]
    Task<IApiResponse<JsonApiResourceDocument<Product>>> GetProductAsync(long resellerId, string productId, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/reseller_analytics")]
    Task<IApiResponse<JsonApiResourceDocument<UnknownResource>>> GetResellerAnalyticsAsync(long resellerId, CancellationToken cancellationToken);

    [Get("/api/v3/analytics_daily")]
    Task<IApiResponse<JsonApiDocument<UnknownResource>>> ListDailyAnalyticsAsync(
        [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/analytics_daily_drafts")]
    Task<IApiResponse<JsonApiDocument<UnknownResource>>> ListDailyAnalyticsDraftsAsync(
        [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/analytics_monthly")]
    Task<IApiResponse<JsonApiDocument<UnknownResource>>> ListMonthlyAnalyticsAsync(
        [AliasAs("include")] string? include, [AliasAs("meta")] string? meta, [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort, [AliasAs("page[size]")] int pageSize, [AliasAs("page[number]")] int pageNumber, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/user_authentication/token")]
    Task<IApiResponse<JsonApiResourceDocument<User>>> GetUserByTokenAsync(long resellerId, [AliasAs("token")] string token, CancellationToken cancellationToken);
}
