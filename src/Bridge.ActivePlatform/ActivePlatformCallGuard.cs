using System.Globalization;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Refit;

namespace Bridge.ActivePlatform;

/// <summary>
/// Turns a Refit call's outcome into the <see cref="ActivePlatformException"/> hierarchy — transient: no answer, timeouts,
/// 408/429/5xx, an unreadable 2xx; permanent: other 4xx with ActivePlatform's errors — with the API token redacted from
/// everything the server echoes back. Every facade (closing documents, payments, currency rates, corrections, invoices)
/// goes through this one translation, so failures are classified identically everywhere.
/// </summary>
internal sealed class ActivePlatformCallGuard(string? apiToken, TimeProvider timeProvider)
{
    /// <summary>One call: a missing answer becomes a transient exception; the answer is returned for the caller to check.</summary>
    public async Task<TResponse> CallAsync<TResponse>(Func<CancellationToken, Task<TResponse>> call, CancellationToken cancellationToken)
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
            throw NoAnswer(ex.InnerException ?? ex, ex.HttpMethod?.Method, ex.Uri, ex.RequestMessage);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException or OperationCanceledException)
        {
            throw NoAnswer(ex, null, null, null);
        }

        if (response.HasRequestError(out var requestError))
        {
            response.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            throw NoAnswer(requestError.InnerException ?? requestError, requestError.HttpMethod?.Method, requestError.Uri, requestError.RequestMessage);
        }

        return response;
    }

    public void EnsureSuccessStatus(IApiResponse response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw FromStatus(response);
        }
    }

    public void EnsureSuccess(IApiResponse response)
    {
        EnsureSuccessStatus(response);
        if (response.HasResponseError(out var error))
        {
            // A 2xx whose body does not read: possibly truncated. Transient, so that a write which may have
            // happened is retried through the idempotent lookup rather than rejected.
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
            AnAttemptMayHaveApplied = AttemptOutcomes.AnAttemptMayHaveApplied(response.RequestMessage),
            ThrottledByBridge = response.Headers?.Contains(ActivePlatformRateLimitHandler.LocalHeader) == true,
            Errors = errors,
        };

        var first = errors.FirstOrDefault();
        var message = string.Create(CultureInfo.InvariantCulture, $"ActivePlatform answered {status} {Redact(response.ReasonPhrase)} to {details.Method} {details.RequestUri}");
        if (first?.Title is { Length: > 0 } title)
        {
            message += $": {title}";
        }

        if (errors.FirstOrDefault(e => e.Code is { Length: > 0 })?.Code is { } code)
        {
            message += $" [{code}]";
        }

        if (details.RetryAfter is { } retryAfter)
        {
            message += string.Create(CultureInfo.InvariantCulture, $" (retry after {retryAfter})");
        }

        return ActivePlatformFailureClassification.IsTransientStatus(status)
            ? new ActivePlatformTransientException(message, details)
            : new ActivePlatformPermanentException(message, details);
    }

    public ActivePlatformTransientException Unreadable(IApiResponse response, string reason, Exception? inner = null)
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

    private ActivePlatformTransientException NoAnswer(Exception cause, string? method, Uri? uri, HttpRequestMessage? request)
    {
        var what = cause switch
        {
            TimeoutRejectedException t => string.Create(CultureInfo.InvariantCulture, $"timed out after {t.Timeout}"),
            BrokenCircuitException => "the circuit to ActivePlatform is open after repeated failures",
            AttemptNotSentException n => n.Message,
            HttpRequestException h => $"the connection failed ({h.HttpRequestError}): {Redact(h.Message)}",
            OperationCanceledException => "the request was cancelled by a timeout",
            _ => Redact(cause.Message),
        };

        // Only exceptions known not to carry the request travel along as the cause; Refit's own carry its headers.
        var inner = cause is ApiExceptionBase ? null : cause;
        return new ActivePlatformTransientException(
            $"ActivePlatform did not answer {method ?? "the request"} {uri}: {what}",
            new ActivePlatformFailureDetails
            {
                Method = method,
                RequestUri = uri,
                AnAttemptMayHaveApplied = AttemptOutcomes.AnAttemptMayHaveApplied(request) || cause is AttemptNotSentException { AnEarlierAttemptMayHaveApplied: true },
            },
            inner);
    }

    private string? Redact(string? text) =>
        text is null || string.IsNullOrEmpty(apiToken) ? text : text.Replace(apiToken, "***", StringComparison.Ordinal);
}
