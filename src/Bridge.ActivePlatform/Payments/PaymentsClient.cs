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

public sealed class PaymentsClient(IPaymentsApi api, IOptions<ActivePlatformOptions> options, TimeProvider timeProvider) : IPaymentsClient
{
    private readonly ActivePlatformOptions _options = options.Value;

    public async Task<Payment> CreateTopUpAsync(long resellerId, TopUpPayment payment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payment);
        var body = Envelope(new TopUpPaymentWrite { AccountId = payment.AccountId, Total = payment.Total, Comment = payment.Comment, Purpose = payment.Purpose });
        return await WriteAsync(ct => api.CreateAsync(resellerId, body, ct), cancellationToken).ConfigureAwait(false);
    }

    public async Task<Payment?> GetAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentId);
        using var response = await CallAsync(ct => api.GetAsync(resellerId, paymentId, null, ct), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        EnsureSuccess(response);
        return response.Content?.Items.FirstOrDefault();
    }

    public async Task<IReadOnlyDictionary<string, PaymentCorrectionAttributes>> GetCorrectionsAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentId);
        using var response = await CallAsync(ct => api.GetAsync(resellerId, paymentId, "corrections", ct), cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response);
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
            EnsureSuccess(response);
            var items = response.Content?.Items ?? [];

            // A server that ignores page[number] would otherwise be paged forever.
            if (items.Count > 0 && items[0].Id == previousFirstId)
            {
                yield break;
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
    }

    public async Task<Payment?> FindByNumberAsync(long resellerId, string paymentNumber, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentNumber);
        var filters = new Dictionary<string, string>(StringComparer.Ordinal) { ["filter[document_id]"] = paymentNumber };
        using var response = await CallAsync(ct => api.ListAsync(resellerId, filters, 50, 1, ct), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        EnsureSuccess(response);
        return response.Content?.Items.FirstOrDefault(p => string.Equals(p.Attributes.DocumentId, paymentNumber, StringComparison.Ordinal));
    }

    public Task<Payment> CancelAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentId);
        return WriteAsync(ct => api.CancelAsync(resellerId, paymentId, ct), cancellationToken);
    }

    public Task<Payment> CompleteByIdAsync(long resellerId, string paymentId, long paymentMethodId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentId);
        return WriteAsync(ct => api.CompleteByIdAsync(resellerId, paymentId, Envelope(new PaymentMethodWrite { PaymentMethodId = paymentMethodId }), ct), cancellationToken);
    }

    public Task<Payment> PayFromBalanceAsync(long resellerId, string paymentId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentId);
        return WriteAsync(ct => api.SetStatusAsync(resellerId, paymentId, Envelope(new PaymentStatusWrite { Status = PaymentStatuses.PaidFromBalance }), ct), cancellationToken);
    }

    public Task<Payment> CompleteByNumberAsync(long resellerId, string paymentNumber, PaymentCompletionByNumber completion, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentNumber);
        var body = Envelope(PaymentCompletionByNumberWrite.From(completion));
        return WriteAsync(ct => api.CompleteByNumberAsync(resellerId, paymentNumber, body, ct), cancellationToken);
    }

    private static DataAttributesEnvelope<T> Envelope<T>(T attributes) => new() { Data = new DataAttributes<T> { Attributes = attributes } };

    /// <summary>A write's answer must carry the payment: an unreadable 2xx is transient, since the write may have happened.</summary>
    private async Task<Payment> WriteAsync(Func<CancellationToken, Task<IApiResponse<JsonApiDocument<Payment>>>> call, CancellationToken cancellationToken)
    {
        using var response = await CallAsync(call, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response);
        return response.Content?.Items.FirstOrDefault()
            ?? throw Unreadable(response, "no payment in the answer");
    }

    // The call/classify steps below follow ActivePlatformClient's rules (no answer and 408/429/5xx transient, other 4xx
    // permanent, the token redacted from every message) for this flow's own Refit interface.
    private async Task<TResponse> CallAsync<TResponse>(Func<CancellationToken, Task<TResponse>> call, CancellationToken cancellationToken)
        where TResponse : IApiResponse
    {
        TResponse response;
        try
        {
            response = await call(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (ApiRequestException ex)
        {
            throw NoAnswer(ex.InnerException ?? ex, ex.HttpMethod?.Method, ex.Uri);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException or OperationCanceledException)
        {
            throw NoAnswer(ex, null, null);
        }

        if (response.HasRequestError(out var requestError))
        {
            response.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            throw NoAnswer(requestError.InnerException ?? requestError, requestError.HttpMethod?.Method, requestError.Uri);
        }

        return response;
    }

    private void EnsureSuccess(IApiResponse response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw FromStatus(response);
        }

        if (response.HasResponseError(out var error))
        {
            throw Unreadable(response, Redact(error.InnerException?.Message ?? error.Message) ?? "unreadable body", error.InnerException);
        }
    }

    private ActivePlatformException FromStatus(IApiResponse response)
    {
        var status = (int)(response.StatusCode ?? 0);
        var body = response.Error is ApiException api ? api.Content : null;
        var errors = ActivePlatformErrorParser.Parse(body)
            .Select(e => e with { Title = Redact(e.Title), Status = Redact(e.Status), Code = Redact(e.Code), Detail = Redact(e.Detail) })
            .ToList();
        var details = new ActivePlatformFailureDetails
        {
            Status = status,
            Method = response.RequestMessage?.Method.Method,
            RequestUri = response.RequestMessage?.RequestUri,
            RetryAfter = ActivePlatformErrorParser.RetryAfter(response.Headers?.RetryAfter, timeProvider.GetUtcNow()),
            Errors = errors,
        };
        var message = string.Create(CultureInfo.InvariantCulture, $"ActivePlatform answered {status} {Redact(response.ReasonPhrase)} to {details.Method} {details.RequestUri}");
        if (errors.FirstOrDefault()?.Title is { Length: > 0 } title)
        {
            message += $": {title}";
        }

        return ActivePlatformFailureClassification.IsTransientStatus(status)
            ? new ActivePlatformTransientException(message, details)
            : new ActivePlatformPermanentException(message, details);
    }

    private ActivePlatformTransientException Unreadable(IApiResponse response, string reason, Exception? inner = null)
    {
        var details = new ActivePlatformFailureDetails
        {
            Status = (int)(response.StatusCode ?? 0),
            Method = response.RequestMessage?.Method.Method,
            RequestUri = response.RequestMessage?.RequestUri,
        };
        return new ActivePlatformTransientException(
            string.Create(CultureInfo.InvariantCulture, $"ActivePlatform's {details.Status} answer to {details.Method} {details.RequestUri} could not be used: {reason}"),
            details,
            inner);
    }

    private ActivePlatformTransientException NoAnswer(Exception cause, string? method, Uri? uri)
    {
        var what = cause switch
        {
            TimeoutRejectedException t => string.Create(CultureInfo.InvariantCulture, $"timed out after {t.Timeout}"),
            BrokenCircuitException => "the circuit to ActivePlatform is open after repeated failures",
            HttpRequestException h => $"the connection failed ({h.HttpRequestError}): {Redact(h.Message)}",
            OperationCanceledException => "the request was cancelled by a timeout",
            _ => Redact(cause.Message),
        };

        // Refit's own exceptions carry the request with its headers: they do not travel along as the cause.
        var inner = cause is ApiExceptionBase ? null : cause;
        return new ActivePlatformTransientException(
            $"ActivePlatform did not answer {method ?? "the request"} {uri}: {what}",
            new ActivePlatformFailureDetails { Method = method, RequestUri = uri },
            inner);
    }

    private string? Redact(string? text) =>
        text is null || string.IsNullOrEmpty(_options.ApiToken) ? text : text.Replace(_options.ApiToken, "***", StringComparison.Ordinal);
}
