using Bridge.ActivePlatform;
using Polly.CircuitBreaker;

namespace Bridge.Host.Effects;

/// <summary>
/// A message whose natural key (a statement line, a top-up key, a correction key) was already used by another message with
/// different figures: answered as an idempotency conflict, never applied and never echoed as applied with the new figures.
/// </summary>
public sealed class NaturalKeyConflictException(string message) : Exception(message);

/// <summary>Which failed calls prove that ActivePlatform applied nothing, so the effect may be sent again.</summary>
public static class EffectFailures
{
    /// <summary>
    /// True for an answer that means the request was not carried out: 429 (throttled), 503 (unavailable before it was
    /// handled), any other 4xx but 408 (refused); and for a request that never left: an open circuit, a connection that
    /// never opened. Everything else (timeouts, 500, 502, 504, a lost answer) may have applied — and so may a request the
    /// HTTP layer repeated after such an attempt, whatever the last repeat was answered.
    /// </summary>
    public static bool ProvesNotApplied(Exception exception) => exception switch
    {
        ActivePlatformException { AnAttemptMayHaveApplied: true } => false,
        ActivePlatformException { Status: 429 or 503 } => true,
        ActivePlatformException { Status: >= 400 and < 500 and not 408 } => true,
        ActivePlatformException { Status: null, InnerException: BrokenCircuitException } => true,
        ActivePlatformException { Status: null, InnerException: HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } } => true,
        _ => false,
    };
}

/// <summary>How long Bridge waits before it concludes from a read-back that an effect whose answer was lost did not happen.</summary>
public static class EffectTiming
{
    /// <summary>
    /// A request whose answer was lost may still be carried out by ActivePlatform after the client gave up on it: the HTTP
    /// layer may repeat a throttled POST until its total timeout, and the last attempt may run one attempt timeout more.
    /// Until the total timeout plus one attempt timeout has passed since the send, "nothing changed yet" proves nothing.
    /// </summary>
    public static TimeSpan InFlightWindow(Bridge.ActivePlatform.ActivePlatformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.TotalTimeout + options.AttemptTimeout;
    }
}
