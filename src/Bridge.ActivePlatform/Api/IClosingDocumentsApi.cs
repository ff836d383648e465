using Bridge.ActivePlatform.Models;
using Refit;

namespace Bridge.ActivePlatform.Api;

/// <summary>
/// Closing documents (<c>external_invoices</c>). Every method returns <see cref="IApiResponse{T}"/> because a non-2xx answer
/// (404 on lookup, 422 on validation) is an expected outcome that <see cref="ActivePlatformClient"/> classifies.
/// The write envelope is undocumented, so each write exists in both shapes; the client picks one by configuration.
/// </summary>
[Headers("Accept: " + ActivePlatformMediaType.JsonApi)]
public interface IClosingDocumentsApi
{
    [Get("/api/v3/resellers/{resellerId}/accounts/{accountId}/external_invoices")]
    Task<IApiResponse<JsonApiDocument<ExternalInvoice>>> FindByKeyAsync(
        long resellerId, long accountId, [AliasAs("filter[key]")] string key, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/accounts/{accountId}/external_invoices")]
    Task<IApiResponse<JsonApiDocument<JsonApiResource>>> CreateAsync(
        long resellerId, long accountId, [Body] DataAttributesEnvelope<ExternalInvoiceWriteAttributes> body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/accounts/{accountId}/external_invoices")]
    Task<IApiResponse<JsonApiDocument<JsonApiResource>>> CreateFlatAsync(
        long resellerId, long accountId, [Body] ExternalInvoiceWriteAttributes body, CancellationToken cancellationToken);

    [Patch("/api/v3/resellers/{resellerId}/accounts/{accountId}/external_invoices/{externalInvoiceId}")]
    Task<IApiResponse<JsonApiDocument<JsonApiResource>>> UpdateAsync(
        long resellerId, long accountId, string externalInvoiceId, [Body] DataAttributesEnvelope<ExternalInvoiceWriteAttributes> body, CancellationToken cancellationToken);

    [Patch("/api/v3/resellers/{resellerId}/accounts/{accountId}/external_invoices/{externalInvoiceId}")]
    Task<IApiResponse<JsonApiDocument<JsonApiResource>>> UpdateFlatAsync(
        long resellerId, long accountId, string externalInvoiceId, [Body] ExternalInvoiceWriteAttributes body, CancellationToken cancellationToken);

    [Delete("/api/v3/resellers/{resellerId}/accounts/{accountId}/external_invoices/{externalInvoiceId}")]
    Task<IApiResponse<JsonApiDocument<ExternalInvoice>>> DeleteAsync(
        long resellerId, long accountId, string externalInvoiceId, CancellationToken cancellationToken);

    /// <summary>Documented success: 200 with the body <c>null</c>.</summary>
    [Post("/api/v3/resellers/{resellerId}/notifications/external_invoices")]
    Task<IApiResponse> NotifyAsync(long resellerId, [Body] ClosingDocumentNotification body, CancellationToken cancellationToken);
}
