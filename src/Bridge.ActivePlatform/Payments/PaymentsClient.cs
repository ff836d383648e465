using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Bridge.ActivePlatform.Models;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Refit;

namespace Bridge.ActivePlatform.Payments;

/// <summary>The payment operations the pipeline calls (REFERENCE.md §2). Every failure is an <see cref="ActivePlatformException"/>.</summary>
public interface IPaymentsClient
{
    /// <summary>Creates a top-up payment (201, waiting for payment).</summary>
    Task<Payment> CreateTopUpAsync(long resellerId, TopUpPayment payment, CancellationToken cancellationToken);

    /// <summary>The payment, or null on 404.</summary>
    Task<Payment?> GetAsync(long resellerId, string paymentId, CancellationToken cancellationToken);

    /// <summary>The payment's corrections (<c>include=corrections</c>) by id; empty when the server includes none.</summary>
    Task<IReadOnlyDictionary<string, PaymentCorrectionAttributes>> GetCorrectionsAsync(long resellerId, string paymentId, CancellationToken cancellationToken);

    /// <summary>Every payment matching the filters, page by page until a page has fewer than <see cref="PaymentQuery.PageSize"/> items.</summary>
    IAsyncEnumerable<Payment> ListAsync(long resellerId, PaymentQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// The payment with this number, or null. Asks with <c>filter[document_id]</c> (an inferred filter) and matches the
    /// number itself, so a server ignoring the filter yields null rather than another payment.
    /// </summary>
    Task<Payment?> FindByNumberAsync(long resellerId, string paymentNumber, CancellationToken cancellationToken);

    /// <summary>DELETE: only a payment waiting for payment and not linked to a postpaid invoice; otherwise a permanent 422.</summary>
    Task<Payment> CancelAsync(long resellerId, string paymentId, CancellationToken cancellationToken);

    /// <summary>PATCH with <c>payment_method_id</c>: from waiting for payment or expired.</summary>
    Task<Payment> CompleteByIdAsync(long resellerId, string paymentId, long paymentMethodId, CancellationToken cancellationToken);

    /// <summary>PATCH <c>status: paid_from_balance</c>: from waiting for payment only, not for top-ups.</summary>
    Task<Payment> PayFromBalanceAsync(long resellerId, string paymentId, CancellationToken cancellationToken);

    /// <summary>POST <c>payments/{document_id}</c>: the documented matrix (full, over, partial, already closed).</summary>
    Task<Payment> CompleteByNumberAsync(long resellerId, string paymentNumber, PaymentCompletionByNumber completion, CancellationToken cancellationToken);
}

/// <remarks>
/// Every 404 is first checked against the reseller (<see cref="ActivePlatformClient.EnsureSuccessAsync"/>): ActivePlatform may
/// answer 404 for a reseller the token does not reach, and read as "no such payment" the message would be rejected — final,
/// where a token to fix calls for a dead letter that can be replayed.
/// </remarks>
public sealed class PaymentsClient(IPaymentsApi api, IOptions<ActivePlatformOptions> options, TimeProvider timeProvider, ActivePlatformClient core) : IPaymentsClient
{
    private readonly ActivePlatformCallGuard _guard = new(options.Value.ApiToken, timeProvider);

    public async Task<Payment> CreateTopUpAsync(long resellerId, TopUpPayment payment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payment);
        var body = Envelope(new TopUpPaymentWrite { AccountId = payment.AccountId, Total = payment.Total, Comment = payment.Comment, Purpose = payment.Purpose });
        return await WriteAsync(resellerId, ct => api.CreateAsync(resellerId, body, ct), cancellationToken).ConfigureAwait(false);
    }

    public async Task<Payment?> GetAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentId);
        using var response = await CallAsync(ct => api.GetAsync(resellerId, paymentId, null, ct), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await core.EnsureReachableAsync(resellerId, cancellationToken).ConfigureAwait(false);
            return null;
        }

        EnsureSuccess(response);
        return response.Content?.Items.FirstOrDefault();
    }

    public async Task<IReadOnlyDictionary<string, PaymentCorrectionAttributes>> GetCorrectionsAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentId);
        using var response = await CallAsync(ct => api.GetAsync(resellerId, paymentId, "corrections", ct), cancellationToken).ConfigureAwait(false);
        await core.EnsureSuccessAsync(response, resellerId, cancellationToken).ConfigureAwait(false);
        var corrections = new Dictionary<string, PaymentCorrectionAttributes>(StringComparer.Ordinal);
        foreach (var included in response.Content?.Included ?? [])
        {
            if (included is UnknownResource { Type: "corrections", Attributes: { } attributes } correction)
            {
                corrections[correction.Id] = attributes.Deserialize(PaymentsJsonContext.Default.PaymentCorrectionAttributes) ?? new PaymentCorrectionAttributes();
            }
        }

        return corrections;
    }

    public async IAsyncEnumerable<Payment> ListAsync(long resellerId, PaymentQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageSize, 1);
        var filters = query.Filters?.ToDictionary(f => ActivePlatformClient.FilterKey(f.Key), f => f.Value, StringComparer.Ordinal);
        string? previousFirstId = null;
        for (var page = 1; page <= query.MaxPages; page++)
        {
            using var response = await CallAsync(ct => api.ListAsync(resellerId, filters, query.PageSize, page, ct), cancellationToken).ConfigureAwait(false);
            await core.EnsureSuccessAsync(response, resellerId, cancellationToken).ConfigureAwait(false);
            var items = response.Content?.Items ?? [];

            // A server that ignores page[number] would otherwise be paged forever; stopping here would return one page as if
            // it were the whole list, and a recovery lookup would decide from it.
            if (items.Count > 0 && items[0].Id == previousFirstId)
            {
                throw Incomplete(string.Create(CultureInfo.InvariantCulture, $"ActivePlatform answered page {page} of payments with the same payments as page {page - 1}: page[number] is being ignored, so the list cannot be read to its end."));
            }

            foreach (var payment in items)
            {
                yield return payment;
            }

            if (items.Count < query.PageSize)
            {
                yield break;
            }

            previousFirstId = items[0].Id;
        }

        // Never a partial list as if complete: a caller deciding "not there" from it could miss what it looks for.
        throw Incomplete(string.Create(CultureInfo.InvariantCulture, $"ActivePlatform returned {query.MaxPages} full pages of {query.PageSize} payments and more remain; stopped paging without reading the list to its end."));
    }

    private static ActivePlatformTransientException Incomplete(string message) => new(message, new ActivePlatformFailureDetails());

    public async Task<Payment?> FindByNumberAsync(long resellerId, string paymentNumber, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentNumber);
        var filters = new Dictionary<string, string>(StringComparer.Ordinal) { ["filter[document_id]"] = paymentNumber };
        using var response = await CallAsync(ct => api.ListAsync(resellerId, filters, 50, 1, ct), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await core.EnsureReachableAsync(resellerId, cancellationToken).ConfigureAwait(false);
            return null;
        }

        EnsureSuccess(response);
        return response.Content?.Items.FirstOrDefault(p => string.Equals(p.Attributes.DocumentId, paymentNumber, StringComparison.Ordinal));
    }

    public Task<Payment> CancelAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentId);
        return WriteAsync(resellerId, ct => api.CancelAsync(resellerId, paymentId, ct), cancellationToken);
    }

    public Task<Payment> CompleteByIdAsync(long resellerId, string paymentId, long paymentMethodId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentId);
        return WriteAsync(resellerId, ct => api.CompleteByIdAsync(resellerId, paymentId, Envelope(new PaymentMethodWrite { PaymentMethodId = paymentMethodId }), ct), cancellationToken);
    }

    public Task<Payment> PayFromBalanceAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentId);
        return WriteAsync(resellerId, ct => api.SetStatusAsync(resellerId, paymentId, Envelope(new PaymentStatusWrite { Status = PaymentStatuses.PaidFromBalance }), ct), cancellationToken);
    }

    public Task<Payment> CompleteByNumberAsync(long resellerId, string paymentNumber, PaymentCompletionByNumber completion, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentNumber);
        var body = Envelope(PaymentCompletionByNumberWrite.From(completion));
        return WriteAsync(resellerId, ct => api.CompleteByNumberAsync(resellerId, paymentNumber, body, ct), cancellationToken);
    }

    private static DataAttributesEnvelope<T> Envelope<T>(T attributes) => new() { Data = new DataAttributes<T> { Attributes = attributes } };

    /// <summary>A write's answer must carry the payment: an unreadable 2xx is transient, since the write may have happened.</summary>
    private async Task<Payment> WriteAsync(long resellerId, Func<CancellationToken, Task<IApiResponse<JsonApiDocument<Payment>>>> call, CancellationToken cancellationToken)
    {
        using var response = await CallAsync(call, cancellationToken).ConfigureAwait(false);
        await core.EnsureSuccessAsync(response, resellerId, cancellationToken).ConfigureAwait(false);
        return response.Content?.Items.FirstOrDefault()
            ?? throw Unreadable(response, "no payment in the answer");
    }

    private Task<TResponse> CallAsync<TResponse>(Func<CancellationToken, Task<TResponse>> call, CancellationToken cancellationToken)
        where TResponse : IApiResponse => _guard.CallAsync(call, cancellationToken);

    private void EnsureSuccess(IApiResponse response) => _guard.EnsureSuccess(response);

    private ActivePlatformTransientException Unreadable(IApiResponse response, string reason) => _guard.Unreadable(response, reason);
}
