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
    /// True for an answer that means the request was not carried out: 429 (throttled), any other 4xx but 408 (refused);
    /// and for a request that never left: an open circuit, a connection that never opened, an attempt past the call's total
    /// timeout that Bridge did not send (<see cref="AttemptNotSentException"/>). Everything else may have
    /// applied: timeouts, a lost answer, and every 5xx — 503 included, since ActivePlatform documents nothing of its 5xx
    /// answers (REFERENCE.md §0) and a gateway may answer 503 after giving up on a request the platform then carries out —
    /// and so may a request the HTTP layer repeated after such an attempt, whatever the last repeat was answered.
    /// </summary>
    public static bool ProvesNotApplied(Exception exception) => exception switch
    {
        ActivePlatformException { AnAttemptMayHaveApplied: true } => false,
        ActivePlatformException { Status: 429 } => true,
        ActivePlatformException { Status: >= 400 and < 500 and not 408 } => true,
        ActivePlatformException { Status: null, InnerException: BrokenCircuitException } => true,
        ActivePlatformException { Status: null, InnerException: AttemptNotSentException } => true,
        ActivePlatformException { Status: null, InnerException: HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } } => true,
        _ => false,
    };
}

/// <summary>
/// The read-back that settles an unresolved effect (the GET that tells whether a send whose answer was lost applied) was
/// itself answered with an error, or not at all. That says nothing about the effect, and nothing about the message being
/// handled: it is transient (retried while the retry budget lasts, then kept as a dead letter saying so), never a
/// rejection, and never a reason to conclude the effect Unknown. The effect stays unresolved, so nothing is sent again.
/// </summary>
public sealed class EffectReadBackFailedException(string message, Exception innerException) : Exception(message, innerException);

public static class EffectReadBack
{
    /// <summary>Runs a settling read-back; any ActivePlatform failure becomes <see cref="EffectReadBackFailedException"/>.</summary>
    public static async Task<T> RunAsync<T>(string effect, Func<Task<T>> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (ActivePlatformException failed)
        {
            throw Failed(effect, failed.Status is { } status ? $"answered {status}: {failed.Message}" : failed.Message, failed);
        }
    }

    /// <summary>The failure of a read-back that got an answer it cannot use (e.g. the payment read before the send is gone).</summary>
    public static EffectReadBackFailedException Failed(string effect, string what, Exception? cause = null) => new(
        $"{effect} was sent to ActivePlatform and its answer was lost; reading it back to settle it failed ({what}). Its outcome is still open and nothing was sent again; the message is retried, and if it is dead-lettered, replay it once ActivePlatform answers the read-back.",
        cause ?? new InvalidOperationException(what));
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

    /// <summary>
    /// The in-flight window of a recorded send, judged by this instance: the larger of its own and the one the sending
    /// instance recorded with the send (<see cref="EffectEntry.SenderWindow"/>). Instances may run with different timeouts (a
    /// rolling deploy that changes them); going by its own alone, an instance with shorter ones would settle another's send
    /// as not applied while that send may still be carried out.
    /// </summary>
    public static TimeSpan InFlightWindow(Bridge.ActivePlatform.ActivePlatformOptions options, EffectEntry sent)
    {
        ArgumentNullException.ThrowIfNull(sent);
        return Max(InFlightWindow(options), sent.SenderWindow);
    }

    /// <summary>
    /// How long after a recorded send an async task it may have become can still be running unpolled: the larger of this
    /// instance's polling deadline and the sender's (<see cref="EffectEntry.SenderTaskDeadline"/>).
    /// </summary>
    public static TimeSpan TaskDeadline(Bridge.ActivePlatform.ActivePlatformOptions options, EffectEntry sent)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sent);
        return Max(options.AsyncTaskPolling.Deadline, sent.SenderTaskDeadline);
    }

    /// <summary>
    /// How long after its send an operator may resolve an effect that is still open (Sending or AsyncTask): the in-flight
    /// window plus the async polling deadline. By then no send can still be carried out and no task still be polled for it,
    /// so nothing a delivery could learn would contradict the operator; before then Bridge settles it itself.
    /// </summary>
    public static TimeSpan OperatorMayResolveOpenAfter(Bridge.ActivePlatform.ActivePlatformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return InFlightWindow(options) + options.AsyncTaskPolling.Deadline;
    }

    /// <summary><see cref="OperatorMayResolveOpenAfter(Bridge.ActivePlatform.ActivePlatformOptions)"/> for a recorded send: by the larger of this instance's and the sender's values.</summary>
    public static TimeSpan OperatorMayResolveOpenAfter(Bridge.ActivePlatform.ActivePlatformOptions options, EffectEntry sent)
        => InFlightWindow(options, sent) + TaskDeadline(options, sent);

    private static TimeSpan Max(TimeSpan own, TimeSpan? sender) => sender is { } other && other > own ? other : own;
}
