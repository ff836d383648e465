using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Bridge.ActivePlatform.Api;
using Bridge.ActivePlatform.Models;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Refit;

namespace Bridge.ActivePlatform;

/// <summary>The domain-level operations the pipeline calls. Every failure is an <see cref="ActivePlatformException"/>.</summary>
public interface IActivePlatformClient
{
    /// <summary>The closing document with this ERP key, or null when there is none (404, <c>data: null</c> or <c>data: []</c>).</summary>
    Task<ExternalInvoice?> FindClosingDocumentAsync(long resellerId, long accountId, string key, CancellationToken cancellationToken);

    Task<WriteResult<ExternalInvoice>> CreateClosingDocumentAsync(long resellerId, long accountId, ClosingDocumentWrite document, CancellationToken cancellationToken);

    Task<WriteResult<ExternalInvoice>> UpdateClosingDocumentAsync(long resellerId, long accountId, string externalInvoiceId, ClosingDocumentWrite document, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the document; a 404 is reported as <c>WasPresent = false</c>, not as a failure, with whether an earlier attempt
    /// whose answer was lost may have been the one that removed it.
    /// </summary>
    Task<DeleteResult<ExternalInvoice>> DeleteClosingDocumentAsync(long resellerId, long accountId, string externalInvoiceId, CancellationToken cancellationToken);

    /// <summary>Notifies the accounts about their closing documents in the New status for the period (fire-and-forget on the platform side).</summary>
    Task NotifyClosingDocumentsAsync(long resellerId, IReadOnlyCollection<long> accountIds, DateOnly startDate, DateOnly endDate, CancellationToken cancellationToken);

    /// <summary>
    /// One poll of an async task; an unknown id is a permanent 404 failure — for a reseller the token reaches; otherwise
    /// <see cref="ResellerNotReachableException"/>.
    /// </summary>
    Task<AsyncTask> GetAsyncTaskAsync(long resellerId, string asyncTaskId, CancellationToken cancellationToken);

    /// <summary>
    /// Confirms now, whatever was confirmed before, that the token reaches the reseller; <see cref="ResellerNotReachableException"/>
    /// when ActivePlatform refuses it. For a caller about to report success from a 404 (a delete finding nothing to delete).
    /// </summary>
    Task ConfirmResellerReachableAsync(long resellerId, CancellationToken cancellationToken);

    /// <summary>The account, or null on 404.</summary>
    Task<Account?> GetChildResellerAccountAsync(long resellerId, long accountId, CancellationToken cancellationToken);

    /// <summary>
    /// One page of subscriptions, as asked. A whole list is <see cref="Queries.IActivePlatformQueries.ListSubscriptionsAsync"/>'s
    /// job: it reads every page and notices a capped page size, where stopping at the first short page would return part of
    /// the list as all of it.
    /// </summary>
    Task<JsonApiDocument<Subscription>> GetSubscriptionsPageAsync(long resellerId, SubscriptionQuery query, int pageNumber, CancellationToken cancellationToken);
}

public sealed class ActivePlatformClient(
    IClosingDocumentsApi closingDocuments,
    IAsyncTasksApi asyncTasks,
    IChildResellerAccountsApi childResellerAccounts,
    ISubscriptionsApi subscriptions,
    IOptions<ActivePlatformOptions> options,
    TimeProvider timeProvider,
    ResellerReach reach,
    IOptionsMonitor<ActivePlatformOptions> currentOptions) : IActivePlatformClient
{
    private readonly ActivePlatformOptions _options = options.Value;
    private readonly ActivePlatformCallGuard _guard = new(options.Value.ApiToken, timeProvider);

    public async Task<ExternalInvoice?> FindClosingDocumentAsync(long resellerId, long accountId, string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        using var response = await CallAsync(ct => closingDocuments.FindByKeyAsync(resellerId, accountId, key, ct), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await EnsureReachableAsync(resellerId, cancellationToken).ConfigureAwait(false);
            return null;
        }

        EnsureSuccess(response);
        var items = response.Content?.Items ?? [];

        // Match on the key rather than trusting the filter: a server that ignored filter[key] and listed every document
        // must not make the pipeline PATCH someone else's document.
        return items.FirstOrDefault(i => string.Equals(i.Attributes.Key, key, StringComparison.OrdinalIgnoreCase))
            ?? (items is [{ Attributes.Key: null } only] ? only : null);
    }

    public async Task<WriteResult<ExternalInvoice>> CreateClosingDocumentAsync(long resellerId, long accountId, ClosingDocumentWrite document, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        var attributes = ExternalInvoiceWriteAttributes.From(document);
        using var response = await CallAsync(
            ct => _options.ClosingDocumentEnvelope == ClosingDocumentEnvelope.Flat
                ? closingDocuments.CreateFlatAsync(resellerId, accountId, attributes, ct)
                : closingDocuments.CreateAsync(resellerId, accountId, Envelope(attributes), ct),
            cancellationToken).ConfigureAwait(false);
        await EnsureReachableIf404Async(response, resellerId, cancellationToken).ConfigureAwait(false);
        EnsureSuccessStatus(response);
        return await ToWriteResultAsync(response, resellerId, accountId, document.Key, cancellationToken).ConfigureAwait(false);
    }

    public async Task<WriteResult<ExternalInvoice>> UpdateClosingDocumentAsync(long resellerId, long accountId, string externalInvoiceId, ClosingDocumentWrite document, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(externalInvoiceId);
        ArgumentNullException.ThrowIfNull(document);
        var attributes = ExternalInvoiceWriteAttributes.From(document);
        using var response = await CallAsync(
            ct => _options.ClosingDocumentEnvelope == ClosingDocumentEnvelope.Flat
                ? closingDocuments.UpdateFlatAsync(resellerId, accountId, externalInvoiceId, attributes, ct)
                : closingDocuments.UpdateAsync(resellerId, accountId, externalInvoiceId, Envelope(attributes), ct),
            cancellationToken).ConfigureAwait(false);
        await EnsureReachableIf404Async(response, resellerId, cancellationToken).ConfigureAwait(false);
        EnsureSuccessStatus(response);
        return await ToWriteResultAsync(response, resellerId, accountId, document.Key, cancellationToken).ConfigureAwait(false);
    }

    public async Task<DeleteResult<ExternalInvoice>> DeleteClosingDocumentAsync(long resellerId, long accountId, string externalInvoiceId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(externalInvoiceId);
        using var response = await CallAsync(ct => closingDocuments.DeleteAsync(resellerId, accountId, externalInvoiceId, ct), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await EnsureReachableAfter404Async(response, resellerId, cancellationToken).ConfigureAwait(false);
            return new DeleteResult<ExternalInvoice>(false, null) { AnAttemptMayHaveApplied = AttemptOutcomes.AnAttemptMayHaveApplied(response.RequestMessage) };
        }

        EnsureSuccess(response);
        return new DeleteResult<ExternalInvoice>(true, response.Content?.Items.FirstOrDefault());
    }

    public async Task NotifyClosingDocumentsAsync(long resellerId, IReadOnlyCollection<long> accountIds, DateOnly startDate, DateOnly endDate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accountIds);
        var body = new ClosingDocumentNotification { AccountIds = [.. accountIds], StartDate = startDate, EndDate = endDate };
        using var response = await CallAsync(ct => closingDocuments.NotifyAsync(resellerId, body, ct), cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response);
    }

    public async Task<AsyncTask> GetAsyncTaskAsync(long resellerId, string asyncTaskId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(asyncTaskId);
        using var response = await CallAsync(ct => asyncTasks.GetAsync(resellerId, asyncTaskId, ct), cancellationToken).ConfigureAwait(false);

        // "No such task" (expired: it ended long ago) only for a reseller the token reaches: for one it does not, the task
        // may still be running, and reading it as ended would let a newer write go before it.
        await EnsureSuccessAsync(response, resellerId, cancellationToken).ConfigureAwait(false);
        return response.Content?.Items.FirstOrDefault()
            ?? throw Unreadable(response, "no async task in the answer");
    }

    public Task ConfirmResellerReachableAsync(long resellerId, CancellationToken cancellationToken)
        => EnsureReachableAsync(resellerId, cancellationToken, afresh: true);

    public async Task<Account?> GetChildResellerAccountAsync(long resellerId, long accountId, CancellationToken cancellationToken)
    {
        using var response = await CallAsync(ct => childResellerAccounts.GetAsync(resellerId, accountId, ct), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await EnsureReachableAsync(resellerId, cancellationToken).ConfigureAwait(false);
            return null;
        }

        EnsureSuccess(response);
        return response.Content?.Items.FirstOrDefault();
    }

    public async Task<JsonApiDocument<Subscription>> GetSubscriptionsPageAsync(long resellerId, SubscriptionQuery query, int pageNumber, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageSize, 1);
        var include = query.Include is { Count: > 0 } ? string.Join(',', query.Include) : null;
        var filters = query.Filters?.ToDictionary(f => FilterKey(f.Key), f => f.Value, StringComparer.Ordinal);
        using var response = await CallAsync(
            ct => subscriptions.ListAsync(resellerId, include, query.Meta ? "true" : null, filters, query.Sort, query.PageSize, pageNumber, ct),
            cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response);
        return response.Content ?? new JsonApiDocument<Subscription>();
    }

    /// <summary><c>account_id</c> → <c>filter[account_id]</c>; <c>created_at[gt]</c> → <c>filter[created_at][gt]</c>; a full <c>filter[…]</c> key is kept.</summary>
    public static string FilterKey(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        if (key.StartsWith("filter[", StringComparison.Ordinal))
        {
            return key;
        }

        var bracket = key.IndexOf('[', StringComparison.Ordinal);
        return bracket < 0 ? $"filter[{key}]" : $"filter[{key[..bracket]}]{key[bracket..]}";
    }

    private static DataAttributesEnvelope<ExternalInvoiceWriteAttributes> Envelope(ExternalInvoiceWriteAttributes attributes) =>
        new() { Data = new DataAttributes<ExternalInvoiceWriteAttributes> { Attributes = attributes } };

    private async Task<WriteResult<ExternalInvoice>> ToWriteResultAsync(
        IApiResponse<JsonApiDocument<JsonApiResource>> response, long resellerId, long accountId, string key, CancellationToken cancellationToken)
    {
        var status = (int)(response.StatusCode ?? 0);
        var readable = !response.HasResponseError(out _);
        var earlier = AttemptOutcomes.AnAttemptMayHaveApplied(response.RequestMessage);
        switch (readable ? response.Content?.Items.FirstOrDefault() : null)
        {
            case AsyncTask task:
                return WriteResult<ExternalInvoice>.Accepted(new AsyncTaskRef(task.Id, task.Attributes.Status), status) with { AnAttemptMayHaveApplied = earlier };
            case ExternalInvoice invoice:
                return WriteResult<ExternalInvoice>.Completed(invoice, status) with { AnAttemptMayHaveApplied = earlier };
        }

        // Accepted without saying what it did (an empty or unreadable body, data: null, an unknown type):
        // the document, if it was written, is found by its key.
        ExternalInvoice? found;
        try
        {
            found = await FindClosingDocumentAsync(resellerId, accountId, key, cancellationToken).ConfigureAwait(false);
        }
        catch (ActivePlatformException unread)
        {
            // The write was answered 2xx: it was carried out. A read-back that fails says nothing against that, and must not
            // read as "nothing was sent" (a GET answered 429, or one that never left, proves only that it did nothing itself).
            throw new ActivePlatformTransientException(
                $"ActivePlatform answered {status} to {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} without saying what it wrote, and the read-back by key failed: {unread.Message}",
                new ActivePlatformFailureDetails { Status = status, Method = response.RequestMessage?.Method.Method, RequestUri = response.RequestMessage?.RequestUri, AnAttemptMayHaveApplied = true },
                unread);
        }

        return found is not null
            ? WriteResult<ExternalInvoice>.Completed(found, status) with { AnAttemptMayHaveApplied = earlier }
            : throw Unreadable(response, $"the write was accepted but neither a closing document nor an async task came back, and no document with key {key} exists");
    }

    /// <summary>
    /// Before a 404 is read as "absent": confirms the token reaches the reseller (see <see cref="ResellerReach"/>), and
    /// fails with <see cref="ResellerNotReachableException"/> when ActivePlatform refuses the reseller itself.
    /// </summary>
    /// <param name="afresh">Probe whatever is confirmed: the 404 would end the message (see <see cref="ResellerReach"/>).</param>
    internal async Task EnsureReachableAsync(long resellerId, CancellationToken cancellationToken, bool afresh = false)
    {
        // The token the requests carry (ApiTokenHandler reads the current options), not the one this client was built with.
        var token = currentOptions.CurrentValue.ApiToken ?? "";
        if (!afresh && reach.IsConfirmed(resellerId, token))
        {
            return;
        }

        using var probe = await CallAsync(
            ct => subscriptions.ListAsync(resellerId, null, null, null, null, 1, 1, ct), cancellationToken).ConfigureAwait(false);
        // Only a 2xx confirms. Any refusal (404, 403 — which may be the token's role rather than its scope, but then the
        // 404 cannot be told apart either — or another 4xx) fails the message as Bridge's configuration, never "absent";
        // a transient answer is retried.
        if (!probe.IsSuccessStatusCode && !ActivePlatformFailureClassification.IsTransientStatus((int)(probe.StatusCode ?? 0)))
        {
            // A confirmation from before (the token since narrowed) must not make the next 404 believed.
            reach.Withdraw(resellerId, token);
            throw new ResellerNotReachableException(
                resellerId, new ActivePlatformFailureDetails { Status = (int)(probe.StatusCode ?? 0), Method = "GET", RequestUri = probe.RequestMessage?.RequestUri });
        }

        EnsureSuccessStatus(probe);
        reach.Confirm(resellerId, token);
    }

    /// <summary>
    /// <see cref="EnsureSuccess"/> for a call whose 404 would otherwise be read as the resource's own refusal ("no such
    /// payment", "no such task"), which a message is rejected for: a 404 is first checked against the reseller (see
    /// <see cref="EnsureReachableAsync"/>), so that a reseller the token does not reach fails as Bridge's configuration —
    /// retried, then dead-lettered, replayable once the token is fixed — and never as a final rejection.
    /// </summary>
    internal async Task EnsureSuccessAsync(IApiResponse response, long resellerId, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await EnsureReachableAfter404Async(response, resellerId, cancellationToken).ConfigureAwait(false);
        }

        EnsureSuccess(response);
    }

    private Task EnsureReachableIf404Async(IApiResponse response, long resellerId, CancellationToken cancellationToken)
        => response.StatusCode == HttpStatusCode.NotFound ? EnsureReachableAfter404Async(response, resellerId, cancellationToken) : Task.CompletedTask;

    /// <summary>
    /// The reseller check after a 404 that would end the message (a write refused, a delete or a task gone): made afresh,
    /// whatever was confirmed before. When an earlier attempt of the request ended unclear (its answer lost), the check's
    /// failure — a refusal, or a 429 — says nothing about that attempt, which may have been carried out: it is raised as a
    /// transient failure that says so, never as one that reads "not applied".
    /// </summary>
    private async Task EnsureReachableAfter404Async(IApiResponse response, long resellerId, CancellationToken cancellationToken)
    {
        try
        {
            await EnsureReachableAsync(resellerId, cancellationToken, afresh: true).ConfigureAwait(false);
        }
        catch (ActivePlatformException unconfirmed) when (AttemptOutcomes.AnAttemptMayHaveApplied(response.RequestMessage))
        {
            var method = response.RequestMessage?.Method.Method;
            throw new ActivePlatformTransientException(
                string.Create(CultureInfo.InvariantCulture, $"A {method} answered 404 after an attempt whose answer was lost, and reseller {resellerId} could not be confirmed reachable: {unconfirmed.Message}"),
                new ActivePlatformFailureDetails { Status = unconfirmed.Status, Method = method, RequestUri = response.RequestMessage?.RequestUri, AnAttemptMayHaveApplied = true },
                unconfirmed);
        }
    }

    /// <summary>One call through the shared error translation; flow facades (corrections, invoices) use it too.</summary>
    internal Task<TResponse> CallAsync<TResponse>(Func<CancellationToken, Task<TResponse>> call, CancellationToken cancellationToken)
        where TResponse : IApiResponse => _guard.CallAsync(call, cancellationToken);

    internal void EnsureSuccessStatus(IApiResponse response) => _guard.EnsureSuccessStatus(response);

    internal void EnsureSuccess(IApiResponse response) => _guard.EnsureSuccess(response);

    internal ActivePlatformTransientException Unreadable(IApiResponse response, string reason, Exception? inner = null) => _guard.Unreadable(response, reason, inner);
}
