using Bridge.ActivePlatform.Api;
using Bridge.ActivePlatform.Models;
using Refit;

namespace Bridge.ActivePlatform.Invoices;

/// <summary>
/// Invoices with external management (REFERENCE.md §6): postpaid invoices an ERP approves, completes or revokes. Bodies are
/// flat, as the documented complete_invoices example; errors carry an <c>INVOICE-00xx</c> code.
/// </summary>
[Headers("Accept: " + ActivePlatformMediaType.JsonApi)]
public interface IInvoicesApi
{
    [Post("/api/v3/resellers/{resellerId}/accounts/{accountId}/approve_invoices")]
    Task<IApiResponse<JsonApiDocument<Invoice>>> ApproveByAccountAsync(long resellerId, long accountId, [Body] InvoiceActionBody body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/invoices/{invoiceId}/approve")]
    Task<IApiResponse<JsonApiDocument<Invoice>>> ApproveByIdAsync(long resellerId, string invoiceId, [Body] InvoiceActionBody body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/accounts/{accountId}/complete_invoices")]
    Task<IApiResponse<JsonApiDocument<Invoice>>> CompleteByAccountAsync(long resellerId, long accountId, [Body] InvoiceActionBody body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/invoices/{invoiceId}/complete")]
    Task<IApiResponse<JsonApiDocument<Invoice>>> CompleteByIdAsync(long resellerId, string invoiceId, [Body] InvoiceActionBody body, CancellationToken cancellationToken);

    /// <summary>Documented by id only.</summary>
    [Post("/api/v3/resellers/{resellerId}/invoices/{invoiceId}/revoke")]
    Task<IApiResponse<JsonApiDocument<Invoice>>> RevokeByIdAsync(long resellerId, string invoiceId, [Body] InvoiceActionBody body, CancellationToken cancellationToken);
}
