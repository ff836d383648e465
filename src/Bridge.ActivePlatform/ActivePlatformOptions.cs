using Microsoft.Extensions.Options;

namespace Bridge.ActivePlatform;

/// <summary>Configuration section <c>ActivePlatform</c>.</summary>
public sealed class ActivePlatformOptions
{
    public const string SectionName = "ActivePlatform";

    /// <summary>The installation URL, e.g. <c>https://billing.example.com</c>; paths <c>/api/v3/…</c> are appended to it.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>The manager's API token, sent as <c>X-Api-Token</c>. Never logged, never in an exception message.</summary>
    public string? ApiToken { get; set; }

    /// <summary>The reseller used when a message names none.</summary>
    public long ResellerId { get; set; }

    /// <summary>The body shape of POST/PATCH <c>external_invoices</c>, which the public docs do not show.</summary>
    public ClosingDocumentEnvelope ClosingDocumentEnvelope { get; set; } = ClosingDocumentEnvelope.DataAttributes;

    /// <summary>Timeout of one HTTP attempt. Closing documents carry files, so this is generous.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of one call including its retries.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// HTTP-level retries per call. Kept small: the message broker redelivers the whole message as well,
    /// so retries multiply.
    /// </summary>
    public int RetryCount { get; set; } = 3;

    /// <summary>Base delay of the exponential, jittered HTTP retry (a <c>Retry-After</c> header wins over it).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Ratio of failed attempts in <see cref="CircuitBreakerSamplingDuration"/> that opens the circuit.</summary>
    public double CircuitBreakerFailureRatio { get; set; } = 0.5;

    public int CircuitBreakerMinimumThroughput { get; set; } = 10;

    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    public AsyncTaskPollingOptions AsyncTaskPolling { get; set; } = new();

    public ActivePlatformRateLimitOptions RateLimit { get; set; } = new();

    // The token must not reach a log through an options dump.
    public override string ToString() =>
        $"ActivePlatformOptions {{ BaseUrl = {BaseUrl}, ApiToken = {(string.IsNullOrEmpty(ApiToken) ? "(none)" : "***")}, ResellerId = {ResellerId}, ClosingDocumentEnvelope = {ClosingDocumentEnvelope} }}";
}

public enum ClosingDocumentEnvelope
{
    /// <summary><c>{"data":{"attributes":{…}}}</c>, like payments and corrections.</summary>
    DataAttributes,

    /// <summary>Flat <c>{…}</c>, like the notifications endpoint.</summary>
    Flat,
}

/// <summary>
/// Section <c>ActivePlatform:RateLimit</c>: calls per second toward ActivePlatform, for the whole installation — every Bridge
/// instance together, each taking its share — and per reseller. Off (0) by default: ActivePlatform documents no limit.
/// </summary>
public sealed class ActivePlatformRateLimitOptions
{
    /// <summary>Calls per second, all instances and resellers together; 0 = no limit.</summary>
    public double PermitsPerSecond { get; set; }

    /// <summary>Calls per second to one reseller's paths (<c>/resellers/{id}/…</c>), all instances together; 0 = no limit.</summary>
    public double PerResellerPermitsPerSecond { get; set; }

    /// <summary>
    /// How long one call waits for its turn; past it the call is answered as ActivePlatform's own 429 would be (never sent,
    /// so even a POST is retried).
    /// </summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Section <c>ActivePlatform:AsyncTaskPolling</c>.</summary>
public sealed class AsyncTaskPollingOptions
{
    /// <summary>Wait before the second poll (the first poll is immediate).</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    public double BackoffFactor { get; set; } = 2.0;

    /// <summary>Cap of one wait between polls.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Each wait is scaled by a random factor in [1 - ratio, 1 + ratio], so that many pollers do not align.</summary>
    public double JitterRatio { get; set; } = 0.2;

    /// <summary>How long one polling run may last before it gives up with a transient failure.</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Names the failing setting with its configuration path, e.g. <c>ActivePlatform:ApiToken</c>.</summary>
public sealed class ActivePlatformOptionsValidator(string sectionPath) : IValidateOptions<ActivePlatformOptions>
{
    public ActivePlatformOptionsValidator()
        : this(ActivePlatformOptions.SectionName)
    {
    }

    public ValidateOptionsResult Validate(string? name, ActivePlatformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var p = sectionPath;

        if (options.BaseUrl is null)
        {
            failures.Add($"{p}:BaseUrl is required: the ActivePlatform installation URL, e.g. https://billing.example.com.");
        }
        else if (!options.BaseUrl.IsAbsoluteUri || (options.BaseUrl.Scheme != Uri.UriSchemeHttp && options.BaseUrl.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add($"{p}:BaseUrl must be an absolute http or https URL, not '{options.BaseUrl}'.");
        }

        if (string.IsNullOrWhiteSpace(options.ApiToken))
        {
            failures.Add($"{p}:ApiToken is required: the manager's API token (sent as X-Api-Token).");
        }

        if (options.ResellerId <= 0)
        {
            failures.Add($"{p}:ResellerId is required: the id of the default reseller (a positive number).");
        }

        if (!Enum.IsDefined(options.ClosingDocumentEnvelope))
        {
            failures.Add($"{p}:ClosingDocumentEnvelope must be DataAttributes or Flat.");
        }

        if (options.AttemptTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{p}:AttemptTimeout must be positive.");
        }

        if (options.TotalTimeout < options.AttemptTimeout)
        {
            failures.Add($"{p}:TotalTimeout must be at least {p}:AttemptTimeout.");
        }

        if (options.RetryCount is < 0 or > 10)
        {
            failures.Add($"{p}:RetryCount must be between 0 and 10.");
        }

        if (options.RetryBaseDelay < TimeSpan.Zero)
        {
            failures.Add($"{p}:RetryBaseDelay must not be negative.");
        }

        if (options.CircuitBreakerFailureRatio is <= 0 or > 1)
        {
            failures.Add($"{p}:CircuitBreakerFailureRatio must be in (0, 1].");
        }

        if (options.RateLimit.PermitsPerSecond is < 0 or > 10_000 || double.IsNaN(options.RateLimit.PermitsPerSecond)
            || options.RateLimit.PerResellerPermitsPerSecond is < 0 or > 10_000 || double.IsNaN(options.RateLimit.PerResellerPermitsPerSecond))
        {
            failures.Add($"{p}:RateLimit:PermitsPerSecond and {p}:RateLimit:PerResellerPermitsPerSecond must be between 0 (no limit) and 10000.");
        }

        // The wait happens inside the attempt's timeout: a long wait would leave the call too little time once sent, and a
        // timed-out POST counts as one that may have been applied.
        if ((options.RateLimit.PermitsPerSecond > 0 || options.RateLimit.PerResellerPermitsPerSecond > 0)
            && (options.RateLimit.MaxWait < TimeSpan.FromMilliseconds(100) || options.RateLimit.MaxWait > options.AttemptTimeout / 2))
        {
            failures.Add($"{p}:RateLimit:MaxWait must be at least 100 ms and at most half {p}:AttemptTimeout (the call is sent within the attempt's time).");
        }

        if (options.CircuitBreakerMinimumThroughput < 2)
        {
            failures.Add($"{p}:CircuitBreakerMinimumThroughput must be at least 2.");
        }

        if (options.CircuitBreakerSamplingDuration < TimeSpan.FromMilliseconds(500) || options.CircuitBreakerBreakDuration < TimeSpan.FromMilliseconds(500))
        {
            failures.Add($"{p}:CircuitBreakerSamplingDuration and {p}:CircuitBreakerBreakDuration must be at least 0.5 s.");
        }

        var polling = options.AsyncTaskPolling;
        if (polling is null)
        {
            failures.Add($"{p}:AsyncTaskPolling is required.");
        }
        else
        {
            if (polling.InitialDelay <= TimeSpan.Zero || polling.MaxDelay < polling.InitialDelay)
            {
                failures.Add($"{p}:AsyncTaskPolling:InitialDelay must be positive and not above {p}:AsyncTaskPolling:MaxDelay.");
            }

            if (polling.BackoffFactor < 1)
            {
                failures.Add($"{p}:AsyncTaskPolling:BackoffFactor must be at least 1.");
            }

            if (polling.JitterRatio is < 0 or >= 1)
            {
                failures.Add($"{p}:AsyncTaskPolling:JitterRatio must be in [0, 1).");
            }

            if (polling.Deadline <= TimeSpan.Zero)
            {
                failures.Add($"{p}:AsyncTaskPolling:Deadline must be positive.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
