using System.Diagnostics.Metrics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Bridge.ActivePlatform;

/// <summary>How many Bridge instances share the installation's rate limit toward ActivePlatform right now.</summary>
public interface IActivePlatformRateShare
{
    int Instances { get; }
}

/// <summary>One instance, alone: what a client without an instance registry (tests, tools) assumes.</summary>
public sealed class SingleInstanceRateShare : IActivePlatformRateShare
{
    public int Instances => 1;
}

/// <summary>
/// The rate limit toward ActivePlatform (<see cref="ActivePlatformRateLimitOptions"/>), kept by spacing calls: every call
/// reserves the next free moment — one interval after the previous call's, for the installation and for the call's
/// reseller — and waits for it. The interval is taken from this instance's share of the rate (the configured rate divided by
/// the live instances, <see cref="IActivePlatformRateShare"/>) at each call, so the pace follows the instances as they come
/// and go, with no burst: all instances together stay under the rate. A call whose moment is further off than the longest
/// wait it accepts reserves nothing and is refused.
/// </summary>
public sealed partial class ActivePlatformRateLimiter
{
    private readonly IOptionsMonitor<ActivePlatformOptions> options;
    private readonly IActivePlatformRateShare share;
    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private readonly Dictionary<string, TimeSpan> nextPerReseller = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TimeSpan> releaseTatPerReseller = new(StringComparer.Ordinal);
    private readonly Counter<long> throttled;
    private readonly long origin;
    private TimeSpan next;
    private TimeSpan? releaseTat;

    public ActivePlatformRateLimiter(IOptionsMonitor<ActivePlatformOptions> options, IActivePlatformRateShare share, TimeProvider time, IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(meterFactory);
        this.options = options;
        this.share = share;
        this.time = time;
        origin = time.GetTimestamp();
        throttled = meterFactory.Create(ActivePlatformMetrics.MeterName).CreateCounter<long>(
            "bridge.activeplatform.rate_limited", "{call}", "Calls to ActivePlatform that would have waited longer than RateLimit:MaxWait for their turn and were answered 429 without being sent.");
    }

    public bool Enabled => options.CurrentValue.RateLimit is { PermitsPerSecond: > 0 } or { PerResellerPermitsPerSecond: > 0 };

    /// <summary>This instance's share of the installation's rate now, in calls per second (0 = no limit).</summary>
    public double InstallationShare => Share(options.CurrentValue.RateLimit.PermitsPerSecond);

    /// <summary>
    /// Waits for the call's turn: true once it has come; false, at once and reserving nothing, when it is further off than
    /// <paramref name="maxWait"/>. The turn only schedules the wait; whether the call may go is decided when the wait ends,
    /// against the calls that actually went (<see cref="TryRelease"/>), so waits that end late together — a stalled process
    /// fires its timers at once, a starved one one by one — never send faster than the share.
    /// </summary>
    public async ValueTask<bool> AcquireAsync(Uri? requestUri, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var reseller = ResellerOf(requestUri);
        if (TryReserve(reseller, maxWait) is not { } wait)
        {
            return false;
        }

        var deadline = time.GetElapsedTime(origin) + maxWait;
        while (true)
        {
            if (wait > TimeSpan.Zero)
            {
                // Whole milliseconds, rounded up: a timer rounds down, and a call woken before its moment would only look again.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), time, cancellationToken);
            }

            switch (TryRelease(reseller, deadline))
            {
                case null:
                    return true;
                case { } again when again < TimeSpan.Zero:
                    return false;
                case { } again:
                    wait = again;
                    break;
            }
        }
    }

    /// <summary>Reserves the next free turn: how long until it comes, or null (nothing reserved) when that is beyond <paramref name="maxWait"/>.</summary>
    internal TimeSpan? TryReserve(string? reseller, TimeSpan maxWait)
    {
        var (installation, perReseller) = Intervals();
        reseller = perReseller is null ? null : reseller;
        lock (gate)
        {
            var now = time.GetElapsedTime(origin);
            var slot = Latest(now, installation is null ? null : next, reseller is null ? null : nextPerReseller.GetValueOrDefault(reseller));
            return slot - now > maxWait ? null : Take(slot, now, installation, reseller, perReseller);
        }
    }

    /// <summary>
    /// At the end of a wait: null when the call may go now, else how long to wait before asking again — negative when that is
    /// after <paramref name="deadline"/> (the call is refused). Decided by the calls that went, as a generic cell rate
    /// algorithm: each call that goes moves the theoretical time of the next one an interval on (from now, if that is
    /// later), and a call may go from half an interval before it. So in any second at most the share plus one go, however
    /// the waits ended, and at the interval of the moment (a new instance slows the pace at once). Waiting again reserves no
    /// new turn: the call's own turn has come; only the calls that went decide.
    /// </summary>
    internal TimeSpan? TryRelease(string? reseller, TimeSpan deadline)
    {
        var (installation, perReseller) = Intervals();
        reseller = perReseller is null ? null : reseller;
        lock (gate)
        {
            var now = time.GetElapsedTime(origin);
            TimeSpan? resellerTat = reseller is not null && releaseTatPerReseller.TryGetValue(reseller, out var rt) ? rt : null;
            var allowedAt = now;
            if (installation is { } i && releaseTat is { } tat)
            {
                allowedAt = Max(allowedAt, tat - (i / 2));
            }

            if (perReseller is { } r && resellerTat is { } rTat)
            {
                allowedAt = Max(allowedAt, rTat - (r / 2));
            }

            if (allowedAt > now)
            {
                return allowedAt > deadline ? TimeSpan.FromTicks(-1) : allowedAt - now;
            }

            if (installation is { } interval)
            {
                releaseTat = Max(releaseTat ?? now, now) + interval;
            }

            if (reseller is not null)
            {
                releaseTatPerReseller[reseller] = Max(resellerTat ?? now, now) + perReseller!.Value;
            }

            return null;
        }
    }

    private TimeSpan Take(TimeSpan slot, TimeSpan now, TimeSpan? installation, string? reseller, TimeSpan? perReseller)
    {
        if (installation is { } i)
        {
            next = slot + i;
        }

        if (reseller is not null)
        {
            nextPerReseller[reseller] = slot + perReseller!.Value;
        }

        return slot - now;
    }

    private (TimeSpan? Installation, TimeSpan? PerReseller) Intervals()
    {
        var settings = options.CurrentValue.RateLimit;
        return (Interval(Share(settings.PermitsPerSecond)), Interval(Share(settings.PerResellerPermitsPerSecond)));
    }

    private static TimeSpan Latest(TimeSpan now, TimeSpan? a, TimeSpan? b) => Max(now, Max(a ?? now, b ?? now));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Counts a call answered 429 locally.</summary>
    public void Throttled() => throttled.Add(1);

    /// <summary>The reseller a path names (<c>…/resellers/{id}/…</c>), or null.</summary>
    public static string? ResellerOf(Uri? requestUri)
    {
        if (requestUri is null)
        {
            return null;
        }

        var match = ResellerPath().Match(requestUri.IsAbsoluteUri ? requestUri.AbsolutePath : requestUri.OriginalString);
        return match.Success ? match.Groups[1].Value : null;
    }

    private double Share(double rate) => rate > 0 ? rate / Math.Max(1, share.Instances) : 0;

    private static TimeSpan? Interval(double rate) => rate > 0 ? TimeSpan.FromSeconds(1 / rate) : null;

    [GeneratedRegex(@"/resellers/(\d+)(/|$)", RegexOptions.CultureInvariant)]
    private static partial Regex ResellerPath();
}

/// <summary>
/// Every attempt toward ActivePlatform waits for its turn under <see cref="ActivePlatformRateLimiter"/> (inside the resilience
/// handler, so retries count too). A call that does not get its turn within <c>RateLimit:MaxWait</c> is answered 429 here,
/// never sent: the retry policy treats it as ActivePlatform's own 429 (retried even for a POST, which surely had no effect).
/// </summary>
public sealed class ActivePlatformRateLimitHandler(ActivePlatformRateLimiter limiter, IOptionsMonitor<ActivePlatformOptions> options) : DelegatingHandler
{
    /// <summary>Marks a 429 that Bridge answered itself, without sending the call.</summary>
    public const string LocalHeader = "Bridge-Rate-Limited";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!limiter.Enabled)
        {
            return await base.SendAsync(request, cancellationToken);
        }

        if (!await limiter.AcquireAsync(request.RequestUri, options.CurrentValue.RateLimit.MaxWait, cancellationToken))
        {
            limiter.Throttled();
            var refused = new HttpResponseMessage(HttpStatusCode.TooManyRequests)
            {
                RequestMessage = request,
                ReasonPhrase = "Rate limited by Bridge (ActivePlatform:RateLimit); not sent",
            };
            refused.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
            refused.Headers.Add(LocalHeader, "true");
            return refused;
        }

        return await base.SendAsync(request, cancellationToken);
    }
}
