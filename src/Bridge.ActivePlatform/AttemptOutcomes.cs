using System.Net;
using Polly;
using Polly.CircuitBreaker;

namespace Bridge.ActivePlatform;

/// <summary>
/// Remembers, on the request itself, that one of its attempts ended without proof that it had no effect. The HTTP layer
/// repeats a PATCH or DELETE on any transient failure, and the caller sees only the last answer: a 503 to the last repeat
/// proves nothing about a first attempt whose answer was lost after ActivePlatform carried it out.
/// </summary>
internal static class AttemptOutcomes
{
    private static readonly HttpRequestOptionsKey<bool> MayHaveApplied = new("Bridge.ActivePlatform.AnAttemptMayHaveApplied");

    /// <summary>Called for every attempt's outcome (the retry strategy's predicate sees each one).</summary>
    public static void Record(Outcome<HttpResponseMessage> outcome, HttpRequestMessage? request)
    {
        if (request is null || request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || !IsUnclear(outcome))
        {
            return;
        }

        request.Options.Set(MayHaveApplied, true);
    }

    public static bool AnAttemptMayHaveApplied(HttpRequestMessage? request)
        => request is not null && request.Options.TryGetValue(MayHaveApplied, out var value) && value;

    /// <summary>
    /// Anything but an answer that proves the attempt was not carried out (429, another 4xx but 408) or a request that never
    /// left (a connection that never opened, an open circuit, an attempt past the send's deadline) — and but a success,
    /// which is no failure at all. A 503 proves nothing: a gateway may answer it after giving up on a request the platform
    /// then carries out (as <c>EffectFailures.ProvesNotApplied</c> in the host says).
    /// </summary>
    private static bool IsUnclear(Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Exception is { } exception)
        {
            return exception is not (BrokenCircuitException
                or AttemptNotSentException
                or HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError });
        }

        var status = (int)(outcome.Result?.StatusCode ?? 0);
        return status switch
        {
            >= 200 and < 300 => false,
            (int)HttpStatusCode.TooManyRequests => false,
            >= 400 and < 500 and not (int)HttpStatusCode.RequestTimeout => false,
            _ => true,
        };
    }
}
