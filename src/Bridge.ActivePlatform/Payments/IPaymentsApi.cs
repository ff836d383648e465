using Bridge.ActivePlatform.Api;
using Bridge.ActivePlatform.Models;
using Refit;

namespace Bridge.ActivePlatform.Payments;

/// <summary>Payments (REFERENCE.md §2). Every method returns <see cref="IApiResponse{T}"/>: 404 and 422 are expected answers that <see cref="PaymentsClient"/> classifies.</summary>
[Headers("Accept: " + ActivePlatformMediaType.JsonApi)]
public interface IPaymentsApi
{
    [Post("/api/v3/resellers/{resellerId}/payments")]
    Task<IApiResponse<JsonApiDocument<Payment>>> CreateAsync(long resellerId, [Body] DataAttributesEnvelope<TopUpPaymentWrite> body, CancellationToken cancellationToken);

    [Get("/api/v3/resellers/{resellerId}/payments/{paymentId}")]
    Task<IApiResponse<JsonApiDocument<Payment>>> GetAsync(long resellerId, string paymentId, [AliasAs("include")] string? include, CancellationToken cancellationToken);

    /// <param name="filters">Complete query keys, e.g. <c>filter[created_at][gt]</c>.</param>
    [Get("/api/v3/resellers/{resellerId}/payments")]
    Task<IApiResponse<JsonApiDocument<Payment>>> ListAsync(
        long resellerId,
        [Query] IDictionary<string, string>? filters,
        [AliasAs("page[size]")] int pageSize,
        [AliasAs("page[number]")] int pageNumber,
        CancellationToken cancellationToken);

    [Delete("/api/v3/resellers/{resellerId}/payments/{paymentId}")]
    Task<IApiResponse<JsonApiDocument<Payment>>> CancelAsync(long resellerId, string paymentId, CancellationToken cancellationToken);

    [Patch("/api/v3/resellers/{resellerId}/payments/{paymentId}")]
    Task<IApiResponse<JsonApiDocument<Payment>>> CompleteByIdAsync(long resellerId, string paymentId, [Body] DataAttributesEnvelope<PaymentMethodWrite> body, CancellationToken cancellationToken);

    [Patch("/api/v3/resellers/{resellerId}/payments/{paymentId}")]
    Task<IApiResponse<JsonApiDocument<Payment>>> SetStatusAsync(long resellerId, string paymentId, [Body] DataAttributesEnvelope<PaymentStatusWrite> body, CancellationToken cancellationToken);

    /// <summary>A POST to a member-like URL: <c>documentId</c> is the payment number, not its id.</summary>
    [Post("/api/v3/resellers/{resellerId}/payments/{documentId}")]
    Task<IApiResponse<JsonApiDocument<Payment>>> CompleteByNumberAsync(long resellerId, string documentId, [Body] DataAttributesEnvelope<PaymentCompletionByNumberWrite> body, CancellationToken cancellationToken);
}
