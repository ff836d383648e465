using Microsoft.AspNetCore.WebUtilities;

namespace Bridge.Sandbox;

internal enum FaultKind
{
    None,
    Hang,
    Throttle,
    Error,
    LoseAnswer,
    LandLate,
}

internal readonly record struct FaultDecision(int LatencyMs, FaultKind Kind, int Status, int RetryAfterSeconds, int? HangMs, SandboxHandChange? ThenByHand = null, long? ThenDeleteClosingDocumentByHand = null, int LateMs = 0);

/// <summary>
/// Fault rules, set by configuration and replaced through <c>PUT /_sandbox/faults</c>. "Next N" counters are
/// consumed under the lock, so concurrent calls never both take the last one; rates draw from one seeded Random.
/// </summary>
internal sealed class FaultInjector
{
    private readonly Lock _gate = new();
    private readonly IReadOnlyList<FaultRule> _configured;
    private readonly int _seed;
    private List<FaultRule> _rules = [];
    private Random _random;

    public FaultInjector(IReadOnlyList<FaultRule> configured, int seed)
    {
        _configured = [.. configured.Select(r => r.Clone())];
        _seed = seed;
        _random = new Random(seed);
        Reset();
    }

    public IReadOnlyList<FaultRule> Rules
    {
        get
        {
            lock (_gate)
            {
                return [.. _rules.Select(r => r.Clone())];
            }
        }
    }

    public void Set(IEnumerable<FaultRule> rules)
    {
        var copies = rules.Select(r => r.Clone()).ToList();
        lock (_gate)
        {
            _rules = copies;
        }
    }

    /// <summary>Back to the configured rules, and the Random back to its seed so a rerun draws the same faults.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _rules = [.. _configured.Select(r => r.Clone())];
            _random = new Random(_seed);
        }
    }

    public FaultDecision Decide(string method, string path, int pageNumber = 1)
    {
        lock (_gate)
        {
            var latency = 0;
            FaultDecision? decision = null;
            foreach (var rule in _rules.Where(r => Matches(r, method, path, pageNumber)))
            {
                latency += Math.Max(0, rule.LatencyMs);
                decision ??= Take(rule) is { } taken ? taken with { ThenByHand = rule.ThenByHand, ThenDeleteClosingDocumentByHand = rule.ThenDeleteClosingDocumentByHand } : null;
            }

            return (decision ?? default) with { LatencyMs = latency };
        }
    }

    private FaultDecision? Take(FaultRule rule)
    {
        if (rule.HangNext > 0)
        {
            rule.HangNext--;
            return new(0, FaultKind.Hang, 0, 0, rule.HangMs);
        }

        if (rule.LoseAnswerNext > 0)
        {
            rule.LoseAnswerNext--;
            return new(0, FaultKind.LoseAnswer, rule.LostAnswerStatus, 0, null);
        }

        if (rule.LandLateNext > 0)
        {
            rule.LandLateNext--;
            return LandLate(rule);
        }

        if (rule.ThrottleNext > 0)
        {
            rule.ThrottleNext--;
            return new(0, FaultKind.Throttle, StatusCodes.Status429TooManyRequests, Math.Max(0, rule.RetryAfterSeconds), null);
        }

        if (rule.FailNext > 0)
        {
            rule.FailNext--;
            return new(0, FaultKind.Error, rule.ErrorStatus, 0, null);
        }

        if (rule.HangRate > 0 && _random.NextDouble() < rule.HangRate)
        {
            return new(0, FaultKind.Hang, 0, 0, rule.HangMs);
        }

        if (rule.LoseAnswerRate > 0 && _random.NextDouble() < rule.LoseAnswerRate)
        {
            return new(0, FaultKind.LoseAnswer, rule.LostAnswerStatus, 0, null);
        }

        if (rule.LandLateRate > 0 && _random.NextDouble() < rule.LandLateRate)
        {
            return LandLate(rule);
        }

        if (rule.ThrottleRate > 0 && _random.NextDouble() < rule.ThrottleRate)
        {
            return new(0, FaultKind.Throttle, StatusCodes.Status429TooManyRequests, Math.Max(0, rule.RetryAfterSeconds), null);
        }

        if (rule.ErrorRate > 0 && _random.NextDouble() < rule.ErrorRate)
        {
            return new(0, FaultKind.Error, rule.ErrorStatus, 0, null);
        }

        return null;
    }

    private FaultDecision LandLate(FaultRule rule) =>
        new(0, FaultKind.LandLate, rule.LostAnswerStatus, 0, null, LateMs: _random.Next(Math.Max(0, rule.LandLateMinMs), Math.Max(rule.LandLateMinMs, rule.LandLateMaxMs) + 1));

    private static bool Matches(FaultRule rule, string method, string path, int pageNumber) =>
        (rule.PageNumber is null || rule.PageNumber == pageNumber)
        && (rule.Method is null || string.Equals(rule.Method, method, StringComparison.OrdinalIgnoreCase))
        && (rule.PathPrefix is null || path.StartsWith(rule.PathPrefix, StringComparison.OrdinalIgnoreCase))
        && (rule.PathContains is null || path.Contains(rule.PathContains, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Waits at least <paramref name="latency"/> by the monotonic clock: a timer alone may end up to one coarse clock tick
    /// (a few milliseconds on Linux) early, and a latency is a promised minimum.
    /// </summary>
    internal static async Task AtLeastAsync(TimeSpan latency, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var left = latency; left > TimeSpan.Zero; left = latency - System.Diagnostics.Stopwatch.GetElapsedTime(started))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(left.TotalMilliseconds)), cancellationToken);
        }
    }

    /// <summary>Runs in front of the API endpoints (inside the call log, so faulted calls are logged with their status).</summary>
    public static async Task Middleware(HttpContext context, RequestDelegate next)
    {
        if (!SandboxApp.IsApiPath(context.Request.Path))
        {
            await next(context);
            return;
        }

        if (LateLandings.IsLanding(context.Request))
        {
            // A call answered earlier, carried out now: no rule faults or delays it a second time.
            CallLog.SetFault(context, "landed-late");
            await next(context);
            return;
        }

        var injector = context.RequestServices.GetRequiredService<FaultInjector>();
        var page = int.TryParse(context.Request.Query["page[number]"].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : 1;
        var decision = injector.Decide(context.Request.Method, context.Request.Path.Value ?? "", page);
        if (decision.LatencyMs > 0)
        {
            await AtLeastAsync(TimeSpan.FromMilliseconds(decision.LatencyMs), context.RequestAborted);
        }

        switch (decision.Kind)
        {
            case FaultKind.Hang:
                CallLog.SetFault(context, "hang");
                var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
                using (var hang = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping))
                {
                    try
                    {
                        await Task.Delay(decision.HangMs ?? Timeout.Infinite, hang.Token);
                    }
                    catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
                    {
                        // The server is stopping: end the hang rather than hold shutdown for it.
                        await ApiJson.Error(StatusCodes.Status503ServiceUnavailable, "Service Unavailable").ExecuteAsync(context);
                        return;
                    }
                }

                await next(context);
                ChangeByHand(context, decision);
                return;

            case FaultKind.LoseAnswer:
                CallLog.SetFault(context, "lost-answer");
                var body = context.Response.Body;
                context.Response.Body = Stream.Null;
                try
                {
                    await next(context);
                }
                finally
                {
                    context.Response.Body = body;
                }

                ChangeByHand(context, decision);
                context.Response.Clear();
                var lostTitle = ReasonPhrases.GetReasonPhrase(decision.Status);
                await ApiJson.Error(decision.Status, lostTitle.Length == 0 ? "Bad Gateway" : lostTitle).ExecuteAsync(context);
                return;

            case FaultKind.LandLate:
                CallLog.SetFault(context, "answered-before-landing");
                // The delay counts from the call's arrival: latency already waited is part of it.
                await context.RequestServices.GetRequiredService<LateLandings>().DeferAsync(context, TimeSpan.FromMilliseconds(Math.Max(0, decision.LateMs - decision.LatencyMs)));
                ChangeByHand(context, decision);
                var gaveUpTitle = ReasonPhrases.GetReasonPhrase(decision.Status);
                await ApiJson.Error(decision.Status, gaveUpTitle.Length == 0 ? "Bad Gateway" : gaveUpTitle).ExecuteAsync(context);
                return;

            case FaultKind.Throttle:
                CallLog.SetFault(context, "throttle");
                ChangeByHand(context, decision);
                context.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await ApiJson.Error(decision.Status, "Too Many Requests").ExecuteAsync(context);
                return;

            case FaultKind.Error:
                CallLog.SetFault(context, "error");
                ChangeByHand(context, decision);
                var title = ReasonPhrases.GetReasonPhrase(decision.Status);
                await ApiJson.Error(decision.Status, title.Length == 0 ? "Error" : title).ExecuteAsync(context);
                return;

            default:
                if (decision.LatencyMs > 0)
                {
                    CallLog.SetFault(context, "latency");
                }

                await next(context);
                return;
        }
    }

    /// <summary>
    /// The manager's change by hand a faulting rule carries (<see cref="FaultRule.ThenByHand"/>,
    /// <see cref="FaultRule.ThenDeleteClosingDocumentByHand"/>), before the answer goes back.
    /// </summary>
    private static void ChangeByHand(HttpContext context, FaultDecision decision)
    {
        if (decision.ThenByHand is { } change)
        {
            context.RequestServices.GetRequiredService<PaymentStore>().ChangeByHand(change.PaymentId, change);
        }

        if (decision.ThenDeleteClosingDocumentByHand is { } documentId)
        {
            context.RequestServices.GetRequiredService<ClosingDocumentStore>().DeleteByHand(documentId);
        }
    }
}
