namespace Bridge.ActivePlatform;

/// <summary>
/// The answer to a write: either the resource (ActivePlatform answered synchronously) or an async task to poll
/// (<c>{"data":{"type":"async_tasks","id":…}}</c>, 201 or 202). Store <see cref="AsyncTask"/>'s id before polling,
/// so that a restart resumes polling instead of repeating the write.
/// </summary>
public sealed record WriteResult<T>
    where T : class
{
    private WriteResult(T? resource, AsyncTaskRef? asyncTask, int status)
    {
        Resource = resource;
        AsyncTask = asyncTask;
        Status = status;
    }

    public T? Resource { get; }

    public AsyncTaskRef? AsyncTask { get; }

    /// <summary>The HTTP status of the answer.</summary>
    public int Status { get; }

    public bool IsAsync => AsyncTask is not null;

    /// <summary>
    /// An earlier attempt of this write (the HTTP layer repeats a PATCH) ended without an answer proving it did nothing — a
    /// timeout, a lost answer, a 5xx: ActivePlatform may still carry it out after this answer, until the in-flight window
    /// (or, had it become an async task, the polling deadline) has passed.
    /// </summary>
    public bool AnAttemptMayHaveApplied { get; init; }

    public static WriteResult<T> Completed(T resource, int status) => new(resource ?? throw new ArgumentNullException(nameof(resource)), null, status);

    public static WriteResult<T> Accepted(AsyncTaskRef asyncTask, int status) => new(null, asyncTask ?? throw new ArgumentNullException(nameof(asyncTask)), status);
}

/// <summary>An async task a write was answered with; <see cref="Status"/> is what the write's answer said, if anything.</summary>
public sealed record AsyncTaskRef(string Id, string? Status);

/// <summary>The outcome of a DELETE: whether the document was there, and what the API returned for it.</summary>
public sealed record DeleteResult<T>(bool WasPresent, T? Resource)
    where T : class
{
    /// <summary>
    /// An earlier attempt of this DELETE (the HTTP layer repeats it) ended without proof that it did nothing: a 404 then may
    /// be that attempt's own removal. False with <see cref="WasPresent"/> false: the document was already gone when every
    /// attempt reached ActivePlatform, so this DELETE removed nothing.
    /// </summary>
    public bool AnAttemptMayHaveApplied { get; init; }
}

/// <summary>Parameters of <c>GET subscriptions</c>.</summary>
public sealed record SubscriptionQuery
{
    /// <summary>Related objects to include: <c>account</c>, <c>plan</c>, <c>subscription_period</c>, <c>subscription_resources</c>.</summary>
    public IReadOnlyList<string>? Include { get; init; }

    /// <summary>Request the plugin-specific <c>meta</c> of each subscription.</summary>
    public bool Meta { get; init; }

    /// <summary>
    /// Filters by field: <c>["account_id"] = "523,685"</c> becomes <c>filter[account_id]=523,685</c>;
    /// <c>["created_at[gt]"] = "2024-01-01"</c> becomes <c>filter[created_at][gt]=2024-01-01</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Filters { get; init; }

    /// <summary><c>field</c> ascending, <c>-field</c> descending.</summary>
    public string? Sort { get; init; }

    /// <summary>Items per page; the API's default is 50.</summary>
    public int PageSize { get; init; } = 50;
}
