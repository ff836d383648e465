using System.Globalization;
using System.Net;

namespace Bridge.ActivePlatform;

/// <summary>
/// Any failure talking to ActivePlatform. <see cref="IsTransient"/> tells the caller whether trying again later can help:
/// timeouts, connection failures, 408, 429 and 5xx are transient; other 4xx are permanent.
/// Messages name the method and URI but never a header, so the API token cannot leak through them.
/// </summary>
public class ActivePlatformException : Exception
{
    public ActivePlatformException()
        : this("ActivePlatform request failed.")
    {
    }

    public ActivePlatformException(string message)
        : this(message, null)
    {
    }

    public ActivePlatformException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    protected ActivePlatformException(string message, bool isTransient, ActivePlatformFailureDetails details, Exception? innerException)
        : base(message, innerException)
    {
        ArgumentNullException.ThrowIfNull(details);
        _isTransient = isTransient;
        Status = details.Status;
        Method = details.Method;
        RequestUri = details.RequestUri;
        RetryAfter = details.RetryAfter;
        AnAttemptMayHaveApplied = details.AnAttemptMayHaveApplied;
        ThrottledByBridge = details.ThrottledByBridge;
        Errors = details.Errors;
        Title = details.Errors.Select(e => e.Title).FirstOrDefault(t => !string.IsNullOrWhiteSpace(t));
        Code = details.Errors.Select(e => e.Code).FirstOrDefault(c => !string.IsNullOrWhiteSpace(c));
    }

    /// <summary>The HTTP status ActivePlatform answered with; null when no answer arrived.</summary>
    public int? Status { get; }

    /// <summary>
    /// ActivePlatform answered 404 about the resource asked for. Not the same as <c>Status == 404</c>: a
    /// <see cref="ResellerNotReachableException"/> carries the status of the reach check (often a 404 about the reseller),
    /// which says nothing of the resource. Catch absence with this, never with the status.
    /// </summary>
    public virtual bool IsResourceNotFound => Status == 404;

    /// <summary>
    /// The 429 came from Bridge's own rate limit (<c>ActivePlatform:RateLimit</c>): the call was never sent, and the failure is
    /// no message's own.
    /// </summary>
    public bool ThrottledByBridge { get; }

    /// <summary>The first error title in the answer.</summary>
    public string? Title { get; }

    /// <summary>The first error code in the answer, e.g. <c>INVOICE-0001</c>.</summary>
    public string? Code { get; }

    private readonly bool _isTransient;

    public bool IsTransient => _isTransient || this is ActivePlatformTransientException;

    /// <summary>How long the server asked to wait (<c>Retry-After</c>, seconds or HTTP date), when it did.</summary>
    public TimeSpan? RetryAfter { get; }

    public string? Method { get; }

    public Uri? RequestUri { get; }

    /// <summary>
    /// True when some attempt of this request — the HTTP layer repeats a PATCH or DELETE on any transient failure — ended
    /// without proof that it had no effect (a timeout, 500, 502, 504, a lost answer). Then the request may have been carried
    /// out, whatever the answer this exception carries (say a 503 to the last repeat) says about its own attempt.
    /// </summary>
    public bool AnAttemptMayHaveApplied { get; }

    /// <summary>Every error object of the answer (the API sends one as an object, a JSON:API server several as an array).</summary>
    public IReadOnlyList<ActivePlatformApiError> Errors { get; }
}

/// <summary>Trying again later may succeed: no answer, a timeout, an open circuit, 408, 429 or 5xx.</summary>
public class ActivePlatformTransientException : ActivePlatformException
{
    public ActivePlatformTransientException()
    {
    }

    public ActivePlatformTransientException(string message)
        : base(message)
    {
    }

    public ActivePlatformTransientException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public ActivePlatformTransientException(string message, ActivePlatformFailureDetails details, Exception? innerException = null)
        : base(message, isTransient: true, details, innerException)
    {
    }
}

/// <summary>ActivePlatform refused the request (a 4xx other than 408/429); repeating it unchanged will fail again.</summary>
public class ActivePlatformPermanentException : ActivePlatformException
{
    public ActivePlatformPermanentException()
    {
    }

    public ActivePlatformPermanentException(string message)
        : base(message)
    {
    }

    public ActivePlatformPermanentException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public ActivePlatformPermanentException(string message, ActivePlatformFailureDetails details, Exception? innerException = null)
        : base(message, isTransient: false, details, innerException)
    {
    }
}

/// <summary>
/// ActivePlatform refused the reseller itself (404, 403 or another 4xx to a one-item page of its subscriptions): the API token does not reach
/// it. Like a refused token, this is Bridge's configuration (or the message's reseller), never a sign that a document is
/// absent; see <see cref="ResellerReach"/>.
/// </summary>
public sealed class ResellerNotReachableException : ActivePlatformPermanentException
{
    public ResellerNotReachableException()
    {
    }

    public ResellerNotReachableException(string message)
        : base(message)
    {
    }

    public ResellerNotReachableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public ResellerNotReachableException(long resellerId, ActivePlatformFailureDetails details)
        : base(
            string.Create(
                CultureInfo.InvariantCulture,
                $"Reseller {resellerId} is not reachable with the configured API token: ActivePlatform answered {details?.Status} to a list of its subscriptions, so its 404 cannot be read as 'not there'. Check Bridge:ActivePlatform:ResellerId, the message's resellerId, and that the token reaches the reseller and may list its subscriptions."),
            details!)
    {
        ResellerId = resellerId;
    }

    /// <summary>Never: the 404 this may carry is the reseller's, not the resource's.</summary>
    public override bool IsResourceNotFound => false;

    public long ResellerId { get; }
}

/// <summary>The async task ended <c>failed</c>: a permanent failure carrying the platform's failure message.</summary>
public sealed class AsyncTaskFailedException : ActivePlatformPermanentException
{
    public AsyncTaskFailedException()
    {
        TaskId = string.Empty;
    }

    public AsyncTaskFailedException(string message)
        : base(message)
    {
        TaskId = string.Empty;
    }

    public AsyncTaskFailedException(string message, Exception? innerException)
        : base(message, innerException)
    {
        TaskId = string.Empty;
    }

    public AsyncTaskFailedException(string taskId, string? failureMessage, ActivePlatformFailureDetails details)
        : base(
            string.IsNullOrWhiteSpace(failureMessage)
                ? $"ActivePlatform async task {taskId} failed without a failure message."
                : $"ActivePlatform async task {taskId} failed: {failureMessage}",
            details)
    {
        TaskId = taskId;
        FailureMessage = failureMessage;
    }

    public string TaskId { get; }

    public string? FailureMessage { get; }
}

/// <summary>
/// The async task was still unfinished at the polling deadline. Transient: the caller keeps the task id,
/// lets the message be retried, and resumes polling the same task instead of repeating the write.
/// </summary>
public sealed class AsyncTaskDeadlineExceededException : ActivePlatformTransientException
{
    public AsyncTaskDeadlineExceededException()
    {
        TaskId = string.Empty;
    }

    public AsyncTaskDeadlineExceededException(string message)
        : base(message)
    {
        TaskId = string.Empty;
    }

    public AsyncTaskDeadlineExceededException(string message, Exception? innerException)
        : base(message, innerException)
    {
        TaskId = string.Empty;
    }

    public AsyncTaskDeadlineExceededException(string taskId, string? lastStatus, TimeSpan deadline, int polls, ActivePlatformFailureDetails details, Exception? lastError)
        : base(
            string.Create(CultureInfo.InvariantCulture, $"ActivePlatform async task {taskId} was still {lastStatus ?? "unknown"} after {polls} polls over {deadline}; polling resumes on the next attempt."),
            details,
            lastError)
    {
        TaskId = taskId;
        LastStatus = lastStatus;
        Polls = polls;
    }

    public string TaskId { get; }

    /// <summary>The status seen at the last successful poll (<c>pending</c>/<c>running</c>), or null if no poll succeeded.</summary>
    public string? LastStatus { get; }

    public int Polls { get; }
}

/// <summary>What is known about a failed exchange, to build an <see cref="ActivePlatformException"/>.</summary>
public sealed record ActivePlatformFailureDetails
{
    public int? Status { get; init; }

    public string? Method { get; init; }

    public Uri? RequestUri { get; init; }

    public TimeSpan? RetryAfter { get; init; }

    /// <summary>See <see cref="ActivePlatformException.AnAttemptMayHaveApplied"/>.</summary>
    public bool AnAttemptMayHaveApplied { get; init; }

    /// <summary>See <see cref="ActivePlatformException.ThrottledByBridge"/>.</summary>
    public bool ThrottledByBridge { get; init; }

    public IReadOnlyList<ActivePlatformApiError> Errors { get; init; } = [];
}

/// <summary>One error object of an ActivePlatform answer: <c>{"title":…,"status":"422","code":"INVOICE-0001"}</c>.</summary>
public sealed record ActivePlatformApiError(string? Title, string? Status, string? Code, string? Detail = null);

/// <summary>The transient/permanent rule in one place, for the pipeline's own decisions as well.</summary>
public static class ActivePlatformFailureClassification
{
    public static bool IsTransientStatus(int status) =>
        status is (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests or >= 500;
}
