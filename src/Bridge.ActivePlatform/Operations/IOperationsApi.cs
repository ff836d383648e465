using Bridge.ActivePlatform.Api;
using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Queries;
using Refit;

namespace Bridge.ActivePlatform.Operations;

/// <summary>
/// The writes of the v3 table beyond the ERP flows (issue 10 §3), paths as api-coverage.txt lists them. Every method answers
/// <see cref="IApiResponse{T}"/>: <see cref="ActivePlatformOperations"/> classifies the statuses. Inferred: every body and
/// answer shape (see OperationModels.cs); the operations without a body (subscription stop/activate/delete, order
/// cancel) send none.
/// </summary>
[Headers("Accept: " + ActivePlatformMediaType.JsonApi)]
public interface IOperationsApi
{
    [Post("/api/v3/resellers/{resellerId}/accounts")]
    Task<IApiResponse<JsonApiResourceDocument<Account>>> CreateAccountAsync(long resellerId, [Body] DataAttributesEnvelope<AccountWrite> body, CancellationToken cancellationToken);

    [Patch("/api/v3/resellers/{resellerId}/accounts/{accountId}")]
    Task<IApiResponse<JsonApiResourceDocument<Account>>> UpdateAccountAsync(long resellerId, long accountId, [Body] DataAttributesEnvelope<AccountWrite> body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/sales_order")]
    Task<IApiResponse<JsonApiResourceDocument<Order>>> CreateSalesOrderAsync(long resellerId, [Body] DataAttributesEnvelope<SalesOrderWrite> body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/switch_order")]
    Task<IApiResponse<JsonApiResourceDocument<Order>>> CreateSwitchOrderAsync(long resellerId, [Body] DataAttributesEnvelope<SwitchOrderWrite> body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/change_order")]
    Task<IApiResponse<JsonApiResourceDocument<Order>>> CreateChangeOrderAsync(long resellerId, [Body] DataAttributesEnvelope<ChangeOrderWrite> body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/renewal_order")]
    Task<IApiResponse<JsonApiResourceDocument<Order>>> CreateRenewalOrderAsync(long resellerId, [Body] DataAttributesEnvelope<RenewalOrderWrite> body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/prolong_order")]
    Task<IApiResponse<JsonApiResourceDocument<Order>>> CreateProlongOrderAsync(long resellerId, [Body] DataAttributesEnvelope<ProlongOrderWrite> body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/orders/{orderId}/cancel_operation")]
    Task<IApiResponse<JsonApiResourceDocument<Order>>> CancelOrderAsync(long resellerId, string orderId, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/subscriptions/{subscriptionId}/stop_operation")]
    Task<IApiResponse<JsonApiResourceDocument<Subscription>>> StopSubscriptionAsync(long resellerId, string subscriptionId, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/subscriptions/{subscriptionId}/activate_operation")]
    Task<IApiResponse<JsonApiResourceDocument<Subscription>>> ActivateSubscriptionAsync(long resellerId, string subscriptionId, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/subscriptions/{subscriptionId}/delete_operation")]
    Task<IApiResponse<JsonApiResourceDocument<Subscription>>> DeleteSubscriptionAsync(long resellerId, string subscriptionId, CancellationToken cancellationToken);

    [Patch("/api/v3/resellers/{resellerId}/subscriptions/{subscriptionId}")]
    Task<IApiResponse<JsonApiResourceDocument<Subscription>>> UpdateSubscriptionAsync(long resellerId, string subscriptionId, [Body] DataAttributesEnvelope<SubscriptionWrite> body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/managers")]
    Task<IApiResponse<JsonApiResourceDocument<Manager>>> CreateManagerAsync(long resellerId, [Body] DataAttributesEnvelope<ManagerWrite> body, CancellationToken cancellationToken);

    [Patch("/api/v3/resellers/{resellerId}/managers/{managerId}")]
    Task<IApiResponse<JsonApiResourceDocument<Manager>>> UpdateManagerAsync(long resellerId, string managerId, [Body] DataAttributesEnvelope<ManagerWrite> body, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/notes")]
    Task<IApiResponse<JsonApiResourceDocument<UnknownResource>>> CreateNoteAsync(long resellerId, [Body] DataAttributesEnvelope<NoteWrite> body, CancellationToken cancellationToken);

    [Delete("/api/v3/resellers/{resellerId}/notes/{noteId}")]
    Task<IApiResponse<JsonApiResourceDocument<UnknownResource>>> DeleteNoteAsync(long resellerId, string noteId, CancellationToken cancellationToken);

    [Post("/api/v3/resellers/{resellerId}/free_access_documents")]
    Task<IApiResponse<JsonApiResourceDocument<UnknownResource>>> CreateFreeAccessDocumentAsync(long resellerId, [Body] DataAttributesEnvelope<FreeAccessDocumentWrite> body, CancellationToken cancellationToken);

    [Put("/api/v3/resellers/{resellerId}/free_access_documents/{documentId}")]
    Task<IApiResponse<JsonApiResourceDocument<UnknownResource>>> ReplaceFreeAccessDocumentAsync(long resellerId, string documentId, [Body] DataAttributesEnvelope<FreeAccessDocumentWrite> body, CancellationToken cancellationToken);

    [Delete("/api/v3/resellers/{resellerId}/free_access_documents/{documentId}")]
    Task<IApiResponse<JsonApiResourceDocument<UnknownResource>>> DeleteFreeAccessDocumentAsync(long resellerId, string documentId, CancellationToken cancellationToken);

    /// <summary>Documented to answer with an async task (REFERENCE.md §5); its status code and shape are inferred.</summary>
    [Post("/api/v3/resellers/{resellerId}/plans/{planId}/order_attributes_validation")]
    Task<IApiResponse<JsonApiResourceDocument<AsyncTask>>> ValidateOrderAttributesAsync(long resellerId, string planId, [Body] DataAttributesEnvelope<OrderAttributesValidationWrite> body, CancellationToken cancellationToken);

    /// <summary>The vendor API: no reseller in the path.</summary>
    [Patch("/api/v3/vendor/subscriptions/{subscriptionId}/close_charges")]
    Task<IApiResponse<JsonApiDocument<Charge>>> CloseChargesAsync(string subscriptionId, [Body] DataAttributesEnvelope<CloseChargesWrite> body, CancellationToken cancellationToken);
}
