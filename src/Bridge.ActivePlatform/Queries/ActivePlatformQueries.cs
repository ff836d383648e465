using System.Net;
using Bridge.ActivePlatform.CurrencyRates;
using Bridge.ActivePlatform.Invoices;
using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Operations;
using Bridge.ActivePlatform.Payments;
using Refit;

namespace Bridge.ActivePlatform.Queries;

/// <summary>
/// The reads an ERP asks Bridge for (issue 10 §2). Lists come back whole (<see cref="AllPages{TResource}"/>, see
/// <see cref="JsonApiPaging"/>); a single resource comes back as its document, or null when ActivePlatform answers 404 for a
/// reseller the token is confirmed to reach (<see cref="ResellerReach"/>) — a 404 for one it does not reach is
/// <see cref="ResellerNotReachableException"/>, never "absent". Every failure is an <see cref="ActivePlatformException"/>.
/// </summary>
public interface IActivePlatformQueries
{
    Task<JsonApiResourceDocument<Account>?> GetChildResellerAccountAsync(long resellerId, long accountId, CancellationToken cancellationToken);

    Task<AllPages<Subscription>> ListSubscriptionsAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<Subscription>?> GetSubscriptionAsync(long resellerId, string subscriptionId, IReadOnlyList<string>? include, CancellationToken cancellationToken);

    Task<AllPages<Invoice>> ListInvoicesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    /// <summary>With <c>include: ["charges"]</c> the invoice's charges come in <c>included</c>.</summary>
    Task<JsonApiResourceDocument<Invoice>?> GetInvoiceAsync(long resellerId, string invoiceId, IReadOnlyList<string>? include, CancellationToken cancellationToken);

    Task<AllPages<Charge>> ListChargesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<Charge>?> GetChargeAsync(long resellerId, string chargeId, CancellationToken cancellationToken);

    Task<AllPages<Payment>> ListPaymentsAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<Payment>?> GetPaymentAsync(long resellerId, string paymentId, IReadOnlyList<string>? include, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<ResellerCurrencyRates>> GetCurrencyRatesAsync(long resellerId, CancellationToken cancellationToken);

    Task<AllPages<Order>> ListOrdersAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<Order>?> GetOrderAsync(long resellerId, string orderId, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<Reseller>?> GetResellerAsync(long resellerId, CancellationToken cancellationToken);

    Task<AllPages<Reseller>> ListChildResellersAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<AllPages<Account>> ListAccountsAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<Account>?> GetAccountAsync(long resellerId, long accountId, CancellationToken cancellationToken);

    Task<AllPages<Plan>> ListPlansAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<Plan>?> GetPlanAsync(long resellerId, string planId, CancellationToken cancellationToken);

    Task<AllPages<Manager>> ListManagersAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<Manager>?> GetManagerAsync(long resellerId, string managerId, CancellationToken cancellationToken);

    /// <summary>Manager roles; read raw (the object is not documented here).</summary>
    Task<AllPages<UnknownResource>> ListManagerRolesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    /// <summary>Account attributes; read raw (the object is not documented here).</summary>
    Task<AllPages<UnknownResource>> ListAccountAttributesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<AllPages<Plan>> ListSwitchablePlansAsync(long resellerId, string planId, ListQuery query, CancellationToken cancellationToken);

    /// <summary>A plan's order attributes; read raw (the object is not documented here).</summary>
    Task<AllPages<UnknownResource>> ListOrderAttributesAsync(long resellerId, string planId, ListQuery query, CancellationToken cancellationToken);

    /// <summary>Notes; read raw (the object is not documented here).</summary>
    Task<AllPages<UnknownResource>> ListNotesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<UnknownResource>?> GetNoteAsync(long resellerId, string noteId, CancellationToken cancellationToken);

    /// <summary>Free-access documents; read raw (the object is not documented here).</summary>
    Task<AllPages<UnknownResource>> ListFreeAccessDocumentsAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    /// <summary>Customer Store: the resellers the token reaches (no reseller in the path).</summary>
    Task<AllPages<Reseller>> ListCustomerStoreResellersAsync(ListQuery query, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<Reseller>?> GetCustomerStoreResellerAsync(long resellerId, CancellationToken cancellationToken);

    Task<AllPages<ProductCategory>> ListProductCategoriesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<AllPages<Product>> ListProductsAsync(long resellerId, ListQuery query, CancellationToken cancellationToken);

    Task<JsonApiResourceDocument<Product>?> GetProductAsync(long resellerId, string productId, CancellationToken cancellationToken);

    /// <summary>The reseller's analytics; read raw (the object is not documented here).</summary>
    Task<JsonApiResourceDocument<UnknownResource>?> GetResellerAnalyticsAsync(long resellerId, CancellationToken cancellationToken);

    /// <summary>Daily analytics (no reseller in the path; rows of the resellers the token reaches); read raw.</summary>
    Task<AllPages<UnknownResource>> ListDailyAnalyticsAsync(ListQuery query, CancellationToken cancellationToken);

    Task<AllPages<UnknownResource>> ListDailyAnalyticsDraftsAsync(ListQuery query, CancellationToken cancellationToken);

    Task<AllPages<UnknownResource>> ListMonthlyAnalyticsAsync(ListQuery query, CancellationToken cancellationToken);

    /// <summary>The customer user a user token belongs to, or null when the reseller has no such token.</summary>
    Task<JsonApiResourceDocument<User>?> GetUserByTokenAsync(long resellerId, string userToken, CancellationToken cancellationToken);
}

/// <summary>Calls go through <see cref="ActivePlatformClient"/>'s error translation and reach check, over the one shared HttpClient.</summary>
public sealed class ActivePlatformQueries(IQueriesApi api, ActivePlatformClient core) : IActivePlatformQueries
{
    public Task<JsonApiResourceDocument<Account>?> GetChildResellerAccountAsync(long resellerId, long accountId, CancellationToken cancellationToken) =>
        GetOneAsync(resellerId, ct => api.GetChildResellerAccountAsync(resellerId, accountId, ct), cancellationToken);

    public Task<AllPages<Subscription>> ListSubscriptionsAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("subscriptions", query, (q, size, number, ct) => api.ListSubscriptionsAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<Subscription>?> GetSubscriptionAsync(long resellerId, string subscriptionId, IReadOnlyList<string>? include, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        return GetOneAsync(resellerId, ct => api.GetSubscriptionAsync(resellerId, subscriptionId, Join(include), null, ct), cancellationToken);
    }

    public Task<AllPages<Invoice>> ListInvoicesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("invoices", query, (q, size, number, ct) => api.ListInvoicesAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<Invoice>?> GetInvoiceAsync(long resellerId, string invoiceId, IReadOnlyList<string>? include, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(invoiceId);
        return GetOneAsync(resellerId, ct => api.GetInvoiceAsync(resellerId, invoiceId, Join(include), ct), cancellationToken);
    }

    public Task<AllPages<Charge>> ListChargesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("charges", query, (q, size, number, ct) => api.ListChargesAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<Charge>?> GetChargeAsync(long resellerId, string chargeId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(chargeId);
        return GetOneAsync(resellerId, ct => api.GetChargeAsync(resellerId, chargeId, null, ct), cancellationToken);
    }

    public Task<AllPages<Payment>> ListPaymentsAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("payments", query, (q, size, number, ct) => api.ListPaymentsAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<Payment>?> GetPaymentAsync(long resellerId, string paymentId, IReadOnlyList<string>? include, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentId);
        return GetOneAsync(resellerId, ct => api.GetPaymentAsync(resellerId, paymentId, Join(include), ct), cancellationToken);
    }

    public async Task<JsonApiResourceDocument<ResellerCurrencyRates>> GetCurrencyRatesAsync(long resellerId, CancellationToken cancellationToken)
    {
        using var response = await core.CallAsync(ct => api.GetCurrencyRatesAsync(resellerId, ct), cancellationToken).ConfigureAwait(false);
        core.EnsureSuccess(response);
        return response.Content is { Data: not null } document
            ? document
            : throw core.Unreadable(response, "no currency rates in the answer");
    }

    public Task<AllPages<Order>> ListOrdersAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("orders", query, (q, size, number, ct) => api.ListOrdersAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<Order>?> GetOrderAsync(long resellerId, string orderId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(orderId);
        return GetOneAsync(resellerId, ct => api.GetOrderAsync(resellerId, orderId, null, ct), cancellationToken);
    }

    /// <summary><c>GET resellers/{id}</c>: the reseller itself, the token's own or one below it.</summary>
    public Task<JsonApiResourceDocument<Reseller>?> GetResellerAsync(long resellerId, CancellationToken cancellationToken) =>
        GetOneAsync(resellerId, ct => api.GetResellerAsync(resellerId, ct), cancellationToken);

    public Task<AllPages<Reseller>> ListChildResellersAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("child resellers", query, (q, size, number, ct) => api.ListChildResellersAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<AllPages<Account>> ListAccountsAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("accounts", query, (q, size, number, ct) => api.ListAccountsAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<Account>?> GetAccountAsync(long resellerId, long accountId, CancellationToken cancellationToken) =>
        GetOneAsync(resellerId, ct => api.GetAccountAsync(resellerId, accountId, ct), cancellationToken);

    public Task<AllPages<Plan>> ListPlansAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("plans", query, (q, size, number, ct) => api.ListPlansAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<Plan>?> GetPlanAsync(long resellerId, string planId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(planId);
        return GetOneAsync(resellerId, ct => api.GetPlanAsync(resellerId, planId, ct), cancellationToken);
    }

    public Task<AllPages<Manager>> ListManagersAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("managers", query, (q, size, number, ct) => api.ListManagersAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<Manager>?> GetManagerAsync(long resellerId, string managerId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(managerId);
        return GetOneAsync(resellerId, ct => api.GetManagerAsync(resellerId, managerId, ct), cancellationToken);
    }

    public Task<AllPages<UnknownResource>> ListManagerRolesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("manager roles", query, (q, size, number, ct) => api.ListManagerRolesAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<AllPages<UnknownResource>> ListAccountAttributesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("account attributes", query, (q, size, number, ct) => api.ListAccountAttributesAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<AllPages<Plan>> ListSwitchablePlansAsync(long resellerId, string planId, ListQuery query, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(planId);
        return ListAsync("switchable plans", query, (q, size, number, ct) => api.ListSwitchablePlansAsync(resellerId, planId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);
    }

    public Task<AllPages<UnknownResource>> ListOrderAttributesAsync(long resellerId, string planId, ListQuery query, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(planId);
        return ListAsync("order attributes", query, (q, size, number, ct) => api.ListOrderAttributesAsync(resellerId, planId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);
    }

    public Task<AllPages<UnknownResource>> ListNotesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("notes", query, (q, size, number, ct) => api.ListNotesAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<UnknownResource>?> GetNoteAsync(long resellerId, string noteId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(noteId);
        return GetOneAsync(resellerId, ct => api.GetNoteAsync(resellerId, noteId, ct), cancellationToken);
    }

    public Task<AllPages<UnknownResource>> ListFreeAccessDocumentsAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("free-access documents", query, (q, size, number, ct) => api.ListFreeAccessDocumentsAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<AllPages<Reseller>> ListCustomerStoreResellersAsync(ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("Customer Store resellers", query, (q, size, number, ct) => api.ListCustomerStoreResellersAsync(q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<Reseller>?> GetCustomerStoreResellerAsync(long resellerId, CancellationToken cancellationToken) =>
        GetOneAsync(resellerId, ct => api.GetCustomerStoreResellerAsync(resellerId, ct), cancellationToken);

    public Task<AllPages<ProductCategory>> ListProductCategoriesAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("product categories", query, (q, size, number, ct) => api.ListProductCategoriesAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<AllPages<Product>> ListProductsAsync(long resellerId, ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("products", query, (q, size, number, ct) => api.ListProductsAsync(resellerId, q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<Product>?> GetProductAsync(long resellerId, string productId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(productId);
        return GetOneAsync(resellerId, ct => api.GetProductAsync(resellerId, productId, ct), cancellationToken);
    }

    public Task<JsonApiResourceDocument<UnknownResource>?> GetResellerAnalyticsAsync(long resellerId, CancellationToken cancellationToken) =>
        GetOneAsync(resellerId, ct => api.GetResellerAnalyticsAsync(resellerId, ct), cancellationToken);

    public Task<AllPages<UnknownResource>> ListDailyAnalyticsAsync(ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("daily analytics", query, (q, size, number, ct) => api.ListDailyAnalyticsAsync(q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<AllPages<UnknownResource>> ListDailyAnalyticsDraftsAsync(ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("daily analytics drafts", query, (q, size, number, ct) => api.ListDailyAnalyticsDraftsAsync(q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<AllPages<UnknownResource>> ListMonthlyAnalyticsAsync(ListQuery query, CancellationToken cancellationToken) =>
        ListAsync("monthly analytics", query, (q, size, number, ct) => api.ListMonthlyAnalyticsAsync(q.Include, q.Meta, q.Filters, q.Sort, size, number, ct), cancellationToken);

    public Task<JsonApiResourceDocument<User>?> GetUserByTokenAsync(long resellerId, string userToken, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userToken);
        return GetOneAsync(resellerId, ct => api.GetUserByTokenAsync(resellerId, userToken, ct), cancellationToken);
    }

    /// <summary>The query's parameters in the form every list method takes.</summary>
    private sealed record WireQuery(string? Include, string? Meta, IDictionary<string, string>? Filters, string? Sort);

    private Task<AllPages<TResource>> ListAsync<TResource>(
        string what,
        ListQuery query,
        Func<WireQuery, int, int, CancellationToken, Task<IApiResponse<JsonApiDocument<TResource>>>> page,
        CancellationToken cancellationToken)
        where TResource : JsonApiResource
    {
        ArgumentNullException.ThrowIfNull(query);
        var wire = new WireQuery(
            Join(query.Include),
            query.Meta ? "true" : null,
            query.Filters?.ToDictionary(f => ActivePlatformClient.FilterKey(f.Key), f => f.Value, StringComparer.Ordinal),
            query.Sort);
        return JsonApiPaging.ReadAllAsync(core, what, query, (number, size, ct) => page(wire, size, number, ct), cancellationToken);
    }

    private async Task<JsonApiResourceDocument<TResource>?> GetOneAsync<TResource>(
        long resellerId, Func<CancellationToken, Task<IApiResponse<JsonApiResourceDocument<TResource>>>> call, CancellationToken cancellationToken)
        where TResource : JsonApiResource
    {
        using var response = await core.CallAsync(call, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await core.EnsureReachableAsync(resellerId, cancellationToken).ConfigureAwait(false);
            return null;
        }

        core.EnsureSuccess(response);
        return response.Content is { Data: not null } document ? document : null;
    }

    private static string? Join(IReadOnlyList<string>? include) => include is { Count: > 0 } ? string.Join(',', include) : null;
}
