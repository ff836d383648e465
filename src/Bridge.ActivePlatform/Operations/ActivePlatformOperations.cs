using System.Net;
using System.Text.Json.Serialization.Metadata;
using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Queries;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Refit;

namespace Bridge.ActivePlatform.Operations;

/// <summary>
/// The writes of the v3 table beyond the ERP flows: accounts, orders, subscription operations, managers, notes, free-access
/// documents, order attributes validation and the vendor's close_charges. Every failure is an
/// <see cref="ActivePlatformException"/>: a refused transition (stopping a stopped subscription, cancelling a completed order)
/// is a permanent 422 with ActivePlatform's error; an id the reseller does not have is a permanent 404 — for a reseller the
/// token is confirmed to reach, otherwise <see cref="ResellerNotReachableException"/>.
/// </summary>
public interface IActivePlatformOperations
{
    Task<Account> CreateAccountAsync(long resellerId, AccountWrite account, CancellationToken cancellationToken);

    /// <summary>Changes the members the write names; the others keep their values.</summary>
    Task<Account> UpdateAccountAsync(long resellerId, long accountId, AccountWrite changes, CancellationToken cancellationToken);

    Task<Order> CreateSalesOrderAsync(long resellerId, SalesOrderWrite order, CancellationToken cancellationToken);

    Task<Order> CreateSwitchOrderAsync(long resellerId, SwitchOrderWrite order, CancellationToken cancellationToken);

    Task<Order> CreateChangeOrderAsync(long resellerId, ChangeOrderWrite order, CancellationToken cancellationToken);

    Task<Order> CreateRenewalOrderAsync(long resellerId, RenewalOrderWrite order, CancellationToken cancellationToken);

    Task<Order> CreateProlongOrderAsync(long resellerId, ProlongOrderWrite order, CancellationToken cancellationToken);

    /// <summary>Only an order that is neither completed nor cancelled (inferred); otherwise a permanent 422.</summary>
    Task<Order> CancelOrderAsync(long resellerId, string orderId, CancellationToken cancellationToken);

    /// <summary>active → stopped (inferred); otherwise a permanent 422.</summary>
    Task<Subscription> StopSubscriptionAsync(long resellerId, string subscriptionId, CancellationToken cancellationToken);

    /// <summary>stopped → active (inferred); otherwise a permanent 422.</summary>
    Task<Subscription> ActivateSubscriptionAsync(long resellerId, string subscriptionId, CancellationToken cancellationToken);

    /// <summary>active or stopped → deleted (inferred); a deleted one again is a permanent 422.</summary>
    Task<Subscription> DeleteSubscriptionAsync(long resellerId, string subscriptionId, CancellationToken cancellationToken);

    Task<Subscription> UpdateSubscriptionAsync(long resellerId, string subscriptionId, SubscriptionWrite changes, CancellationToken cancellationToken);

    Task<Manager> CreateManagerAsync(long resellerId, ManagerWrite manager, CancellationToken cancellationToken);

    Task<Manager> UpdateManagerAsync(long resellerId, string managerId, ManagerWrite changes, CancellationToken cancellationToken);

    /// <summary>The note, read raw (its object is not documented here).</summary>
    Task<UnknownResource> CreateNoteAsync(long resellerId, NoteWrite note, CancellationToken cancellationToken);

    /// <summary>A 404 is <c>WasPresent = false</c>, with whether an attempt whose answer was lost may have been the removal.</summary>
    Task<DeleteResult<UnknownResource>> DeleteNoteAsync(long resellerId, string noteId, CancellationToken cancellationToken);

    Task<UnknownResource> CreateFreeAccessDocumentAsync(long resellerId, FreeAccessDocumentWrite document, CancellationToken cancellationToken);

    /// <summary>PUT: a full replacement.</summary>
    Task<UnknownResource> ReplaceFreeAccessDocumentAsync(long resellerId, string documentId, FreeAccessDocumentWrite document, CancellationToken cancellationToken);

    Task<DeleteResult<UnknownResource>> DeleteFreeAccessDocumentAsync(long resellerId, string documentId, CancellationToken cancellationToken);

    /// <summary>Starts the validation; poll the task (<see cref="ActivePlatformAsyncTaskPoller"/>) for its <c>results</c>.</summary>
    Task<AsyncTask> ValidateOrderAttributesAsync(long resellerId, string planId, OrderAttributesValidationWrite validation, CancellationToken cancellationToken);

    /// <summary>The vendor API (no reseller in the path): the charges it closed.</summary>
    Task<IReadOnlyList<Charge>> CloseChargesAsync(string subscriptionId, DateOnly closeDate, CancellationToken cancellationToken);
}

/// <summary>Calls go through <see cref="ActivePlatformClient"/>'s error translation and reach check, over the one shared HttpClient.</summary>
public sealed class ActivePlatformOperations(IOperationsApi api, ActivePlatformClient core) : IActivePlatformOperations
{
    public Task<Account> CreateAccountAsync(long resellerId, AccountWrite account, CancellationToken cancellationToken) =>
        WriteAsync(resellerId, "account", ct => api.CreateAccountAsync(resellerId, Envelope(account), ct), cancellationToken);

    public Task<Account> UpdateAccountAsync(long resellerId, long accountId, AccountWrite changes, CancellationToken cancellationToken) =>
        WriteAsync(resellerId, "account", ct => api.UpdateAccountAsync(resellerId, accountId, Envelope(changes), ct), cancellationToken);

    public Task<Order> CreateSalesOrderAsync(long resellerId, SalesOrderWrite order, CancellationToken cancellationToken) =>
        WriteAsync(resellerId, "order", ct => api.CreateSalesOrderAsync(resellerId, Envelope(order), ct), cancellationToken);

    public Task<Order> CreateSwitchOrderAsync(long resellerId, SwitchOrderWrite order, CancellationToken cancellationToken) =>
        WriteAsync(resellerId, "order", ct => api.CreateSwitchOrderAsync(resellerId, Envelope(order), ct), cancellationToken);

    public Task<Order> CreateChangeOrderAsync(long resellerId, ChangeOrderWrite order, CancellationToken cancellationToken) =>
        WriteAsync(resellerId, "order", ct => api.CreateChangeOrderAsync(resellerId, Envelope(order), ct), cancellationToken);

    public Task<Order> CreateRenewalOrderAsync(long resellerId, RenewalOrderWrite order, CancellationToken cancellationToken) =>
        WriteAsync(resellerId, "order", ct => api.CreateRenewalOrderAsync(resellerId, Envelope(order), ct), cancellationToken);

    public Task<Order> CreateProlongOrderAsync(long resellerId, ProlongOrderWrite order, CancellationToken cancellationToken) =>
        WriteAsync(resellerId, "order", ct => api.CreateProlongOrderAsync(resellerId, Envelope(order), ct), cancellationToken);

    public Task<Order> CancelOrderAsync(long resellerId, string orderId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(orderId);
        return WriteAsync(resellerId, "order", ct => api.CancelOrderAsync(resellerId, orderId, ct), cancellationToken);
    }

    public Task<Subscription> StopSubscriptionAsync(long resellerId, string subscriptionId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        return WriteAsync(resellerId, "subscription", ct => api.StopSubscriptionAsync(resellerId, subscriptionId, ct), cancellationToken);
    }

    public Task<Subscription> ActivateSubscriptionAsync(long resellerId, string subscriptionId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        return WriteAsync(resellerId, "subscription", ct => api.ActivateSubscriptionAsync(resellerId, subscriptionId, ct), cancellationToken);
    }

    public Task<Subscription> DeleteSubscriptionAsync(long resellerId, string subscriptionId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        return WriteAsync(resellerId, "subscription", ct => api.DeleteSubscriptionAsync(resellerId, subscriptionId, ct), cancellationToken);
    }

    public Task<Subscription> UpdateSubscriptionAsync(long resellerId, string subscriptionId, SubscriptionWrite changes, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        return WriteAsync(resellerId, "subscription", ct => api.UpdateSubscriptionAsync(resellerId, subscriptionId, Envelope(changes), ct), cancellationToken);
    }

    public Task<Manager> CreateManagerAsync(long resellerId, ManagerWrite manager, CancellationToken cancellationToken) =>
        WriteAsync(resellerId, "manager", ct => api.CreateManagerAsync(resellerId, Envelope(manager), ct), cancellationToken);

    public Task<Manager> UpdateManagerAsync(long resellerId, string managerId, ManagerWrite changes, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(managerId);
        return WriteAsync(resellerId, "manager", ct => api.UpdateManagerAsync(resellerId, managerId, Envelope(changes), ct), cancellationToken);
    }

    public Task<UnknownResource> CreateNoteAsync(long resellerId, NoteWrite note, CancellationToken cancellationToken) =>
        WriteAsync(resellerId, "note", ct => api.CreateNoteAsync(resellerId, Envelope(note), ct), cancellationToken);

    public Task<DeleteResult<UnknownResource>> DeleteNoteAsync(long resellerId, string noteId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(noteId);
        return DeleteAsync(resellerId, ct => api.DeleteNoteAsync(resellerId, noteId, ct), cancellationToken);
    }

    public Task<UnknownResource> CreateFreeAccessDocumentAsync(long resellerId, FreeAccessDocumentWrite document, CancellationToken cancellationToken) =>
        WriteAsync(resellerId, "free-access document", ct => api.CreateFreeAccessDocumentAsync(resellerId, Envelope(document), ct), cancellationToken);

    public Task<UnknownResource> ReplaceFreeAccessDocumentAsync(long resellerId, string documentId, FreeAccessDocumentWrite document, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(documentId);
        return WriteAsync(resellerId, "free-access document", ct => api.ReplaceFreeAccessDocumentAsync(resellerId, documentId, Envelope(document), ct), cancellationToken);
    }

    public Task<DeleteResult<UnknownResource>> DeleteFreeAccessDocumentAsync(long resellerId, string documentId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(documentId);
        return DeleteAsync(resellerId, ct => api.DeleteFreeAccessDocumentAsync(resellerId, documentId, ct), cancellationToken);
    }

    public Task<AsyncTask> ValidateOrderAttributesAsync(long resellerId, string planId, OrderAttributesValidationWrite validation, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(planId);
        return WriteAsync(resellerId, "async task", ct => api.ValidateOrderAttributesAsync(resellerId, planId, Envelope(validation), ct), cancellationToken);
    }

    public async Task<IReadOnlyList<Charge>> CloseChargesAsync(string subscriptionId, DateOnly closeDate, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        var body = Envelope(new CloseChargesWrite { CloseDate = closeDate });
        using var response = await core.CallAsync(ct => api.CloseChargesAsync(subscriptionId, body, ct), cancellationToken).ConfigureAwait(false);

        // No reseller in the path: a 404 cannot be told apart from a subscription the vendor's token does not reach.
        core.EnsureSuccess(response);
        return response.Content?.Items ?? throw core.Unreadable(response, "no charges in the answer");
    }

    private static DataAttributesEnvelope<T> Envelope<T>(T attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        return new() { Data = new DataAttributes<T> { Attributes = attributes } };
    }

    /// <summary>
    /// A write's answer must carry the resource: an unreadable 2xx is transient, since the write may have happened (as for
    /// payments); a 404 is checked against the reseller first.
    /// </summary>
    private async Task<TResource> WriteAsync<TResource>(
        long resellerId, string what, Func<CancellationToken, Task<IApiResponse<JsonApiResourceDocument<TResource>>>> call, CancellationToken cancellationToken)
        where TResource : JsonApiResource
    {
        using var response = await core.CallAsync(call, cancellationToken).ConfigureAwait(false);
        await core.EnsureSuccessAsync(response, resellerId, cancellationToken).ConfigureAwait(false);
        return response.Content?.Data is { } resource && !string.IsNullOrEmpty(resource.Id)
            ? resource
            : throw core.Unreadable(response, $"no {what} in the answer");
    }

    private async Task<DeleteResult<UnknownResource>> DeleteAsync(
        long resellerId, Func<CancellationToken, Task<IApiResponse<JsonApiResourceDocument<UnknownResource>>>> call, CancellationToken cancellationToken)
    {
        using var response = await core.CallAsync(call, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await core.ConfirmResellerReachableAsync(resellerId, cancellationToken).ConfigureAwait(false);
            return new DeleteResult<UnknownResource>(false, null) { AnAttemptMayHaveApplied = AttemptOutcomes.AnAttemptMayHaveApplied(response.RequestMessage) };
        }

        core.EnsureSuccess(response);
        return new DeleteResult<UnknownResource>(true, response.Content?.Data);
    }
}

/// <summary>Registers the operations over the one named ActivePlatform <see cref="HttpClient"/>.</summary>
internal static class OperationsRegistration
{
    public static void AddOperations(IServiceCollection services, string httpClientName)
    {
        services.AddRefitGeneratedClient<IOperationsApi>(OperationsJsonContext.Default, _ => Settings(), httpClientName);
        services.TryAddTransient<IActivePlatformOperations, ActivePlatformOperations>();
    }

    private static RefitSettings Settings()
    {
        var settings = ActivePlatformRefit.Settings(OperationsJsonContext.Default);
        settings.ContentSerializer = new SystemTextJsonContentSerializer(OperationsJson.Options);
        return settings;
    }
}

/// <summary>The options of <see cref="OperationsJsonContext"/> with <see cref="Json.MemberPresence"/>, as the reads have.</summary>
public static class OperationsJson
{
    public static System.Text.Json.JsonSerializerOptions Options { get; } = CreateOptions();

    private static System.Text.Json.JsonSerializerOptions CreateOptions()
    {
        var options = new System.Text.Json.JsonSerializerOptions(OperationsJsonContext.Default.Options)
        {
            TypeInfoResolver = OperationsJsonContext.Default.WithAddedModifier(Json.MemberPresence.Track),
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly();
        return options;
    }
}
