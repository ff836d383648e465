using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Bridge.ActivePlatform;
using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Messaging;

/// <summary>
/// Pauses consumption while ActivePlatform is down (ADR 0007). A message whose in-process retries ran out on an ActivePlatform
/// failure asks <see cref="ConfirmAsync"/>; when a probe confirms the outage, consumption pauses: every delivery an input
/// queue hands over meanwhile (at most its prefetch) is held unhandled by <see cref="ActivePlatformOutageFilter"/>, the rest
/// wait on their queues, and a probe every <see cref="OutageOptions.ProbeInterval"/> waits for ActivePlatform to answer again.
/// Then the held deliveries are handled. Nothing is retried, delayed or dead-lettered meanwhile, so an outage of any length
/// costs no retries and needs no broker plugin. The receive endpoints are never stopped and started: restarting a RabbitMQ
/// receive endpoint could leave it hung for good in its topology set-up (seen in the suite: a channel closed under a pending
/// declare), a queue that is never consumed again and a host that cannot stop.
/// </summary>
public sealed partial class ActivePlatformOutage : IReceiveEndpointObserver
{
    private readonly Lock gate = new();
    private readonly ConcurrentDictionary<Uri, CancellationTokenSource> stopping = new();
    private readonly IActivePlatformProbe probe;
    private readonly IOptionsMonitor<OutageOptions> options;
    private readonly TimeProvider time;
    private readonly IHostApplicationLifetime lifetime;
    private readonly ILogger<ActivePlatformOutage> logger;
    private readonly TimeSpan circuitBreakDuration;
    private readonly bool durableTransport;
    private readonly TimeSpan holdCeiling;
    private readonly Counter<long> pauses;
    private readonly Counter<long> requeued;
    private Pause? current;

    public ActivePlatformOutage(
        IActivePlatformProbe probe,
        IOptionsMonitor<OutageOptions> options,
        IOptions<ActivePlatformOptions> activePlatform,
        IOptions<MessagingOptions> messaging,
        TimeProvider time,
        IHostApplicationLifetime lifetime,
        ILogger<ActivePlatformOutage> logger,
        IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(activePlatform);
        ArgumentNullException.ThrowIfNull(messaging);
        ArgumentNullException.ThrowIfNull(meterFactory);
        this.probe = probe;
        this.options = options;
        this.time = time;
        this.lifetime = lifetime;
        this.logger = logger;
        circuitBreakDuration = activePlatform.Value.CircuitBreakerBreakDuration;
        durableTransport = messaging.Value.Transport != MessagingTransport.InMemory;

        // A delivery prefetched behind held ones waits in the client, unacknowledged, for a handling slot before its own hold
        // begins: with prefetch/concurrency = r, the last one is unacknowledged for up to r holds. Every hold is kept short
        // enough that r of them stay under RabbitMQ's consumer timeout (30 minutes by default; 25 leaves a margin).
        var prefetch = messaging.Value.PrefetchCount ?? Math.Max(2 * Environment.ProcessorCount, 16);
        var ratio = Math.Max(1, (int)Math.Ceiling(prefetch / (double)Math.Max(1, messaging.Value.ConcurrentMessageLimit)));
        holdCeiling = TimeSpan.FromMinutes(25) / ratio;
        var meter = meterFactory.Create("Bridge");
        pauses = meter.CreateCounter<long>("bridge.activeplatform.outage.pauses", "{pause}", "Times consumption paused because ActivePlatform was down.");
        requeued = meter.CreateCounter<long>("bridge.activeplatform.outage.requeued", "{message}", "Deliveries put back on their queue, not dead-lettered, because ActivePlatform was down.");
        meter.CreateObservableGauge("bridge.activeplatform.outage.paused", () => IsPaused ? 1 : 0, "{pause}", "1 while consumption is paused for an ActivePlatform outage.");
    }

    /// <summary>Whether deliveries are held during outages (<see cref="OutageOptions.PauseConsumption"/>), ActivePlatform's or the database's.</summary>
    public bool HoldsDuringOutages => options.CurrentValue.PauseConsumption;

    /// <summary>How long the ActivePlatform client's circuit breaker stays open once it opened.</summary>
    public TimeSpan CircuitBreakDuration => circuitBreakDuration;

    /// <summary>When the last pause ended (ActivePlatform answered again).</summary>
    public DateTimeOffset LastResumedAt { get; private set; } = DateTimeOffset.MinValue;

    /// <summary>The pause in force, or null while consuming.</summary>
    public Pause? Current => Volatile.Read(ref current);

    public bool IsPaused => Current is not null;

    /// <summary>
    /// Whether <paramref name="exception"/> (or what it wraps) is ActivePlatform failing in a way an outage explains: a transient
    /// failure — no answer, a timeout, an open circuit, 408, 429, 5xx. An async task still running at the polling deadline is
    /// not, unless its last poll failed so.
    /// </summary>
    public static bool IsActivePlatformFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is ActivePlatformTransientException and not AsyncTaskDeadlineExceededException)
            {
                return true;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsActivePlatformFailure))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsThrottledByBridge(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is ActivePlatformException { ThrottledByBridge: true })
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsOpenCircuit(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is Polly.CircuitBreaker.BrokenCircuitException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Called when a message's retries ran out on <paramref name="cause"/>, an ActivePlatform failure: <see cref="Verdict.Outage"/>
    /// when ActivePlatform is down — consumption is paused (or already was); <see cref="Verdict.CircuitOpen"/> when, just after a
    /// pause, it answers but the client's own circuit breaker is still open from the outage (the message waits out the break
    /// and runs again);
    /// <see cref="Verdict.OwnFailure"/> when a probe gets an answer and the failure is this message's own (dead-lettered as before).
    /// </summary>
    public async Task<Verdict> ConfirmAsync(Exception cause, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cause);
        if (!options.CurrentValue.PauseConsumption)
        {
            return Verdict.OwnFailure;
        }

        if (IsPaused)
        {
            return Verdict.Outage;
        }

        // Bridge's own rate limit refused the calls (never sent): the message waits for its turn, it did not fail.
        if (IsThrottledByBridge(cause))
        {
            return Verdict.Throttled;
        }

        var result = await probe.ProbeAsync(cancellationToken);
        if (result.IsUp)
        {
            // Just after an outage the client's breaker, opened by the outage's failures, may still refuse calls to a platform
            // that answers again: the message waits the break out. Any other time an open breaker is the message's failure
            // as before (its own calls, or others', failed: the retries were its chance).
            if (IsOpenCircuit(cause) && time.GetUtcNow() - LastResumedAt <= circuitBreakDuration * 2)
            {
                LogCircuitStillOpen(result.Detail, circuitBreakDuration);
                return Verdict.CircuitOpen;
            }

            LogAnsweredProbe(result.Detail, cause.GetType().Name);
            return Verdict.OwnFailure;
        }

        Begin(cause, result.Detail);
        return Verdict.Outage;
    }

    /// <summary>What <see cref="ConfirmAsync"/> concluded.</summary>
    public enum Verdict
    {
        OwnFailure,
        Outage,
        CircuitOpen,

        /// <summary>Bridge's own rate limit (<c>ActivePlatform:RateLimit</c>) refused the calls: wait a moment and run again.</summary>
        Throttled,
    }

    /// <summary>How a hold ended.</summary>
    public enum HoldEnd
    {
        /// <summary>ActivePlatform answers again (or the wait asked for is over): handle the delivery.</summary>
        Go,

        /// <summary>The delivery has been unacknowledged for <see cref="OutageOptions.HoldLimit"/>: back to its queue.</summary>
        LimitReached,

        /// <summary>The bus is stopping: back to its queue.</summary>
        Stopping,
    }

    /// <summary>
    /// Holds a delivery received <paramref name="received"/> ago until <paramref name="pause"/> ends — or, without a pause, for
    /// <paramref name="wait"/> — bounded by <see cref="OutageOptions.HoldLimit"/> from its receipt (RabbitMQ closes a channel
    /// holding a delivery for its consumer timeout, 30 minutes by default; the in-memory transport has none and cannot put a
    /// delivery back, so there the hold is unbounded) and ended by the bus stopping. Throws when the delivery is cancelled.
    /// </summary>
    public async Task<HoldEnd> HoldAsync(Uri inputAddress, Pause? pause, TimeSpan wait, TimeSpan received, CancellationToken cancellationToken)
    {
        var endpointStopping = StoppingOf(inputAddress).Token;
        using var hold = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, endpointStopping);
        var holdLimit = options.CurrentValue.HoldLimit < holdCeiling ? options.CurrentValue.HoldLimit : holdCeiling;
        var limit = durableTransport ? holdLimit - received : Timeout.InfiniteTimeSpan;
        if (durableTransport && limit <= TimeSpan.Zero)
        {
            return HoldEnd.LimitReached;
        }

        var go = pause?.Resumed.Task ?? Task.Delay(wait, time, hold.Token);
        var bound = Task.Delay(limit, time, hold.Token);
        try
        {
            var ended = await Task.WhenAny(go, bound);
            cancellationToken.ThrowIfCancellationRequested();
            if (endpointStopping.IsCancellationRequested)
            {
                return HoldEnd.Stopping;
            }

            return ended == bound ? HoldEnd.LimitReached : HoldEnd.Go;
        }
        finally
        {
            await hold.CancelAsync();
        }
    }

    /// <summary>Counts a delivery put back on its queue because of the outage.</summary>
    public void Requeued(string queue) => requeued.Add(1, new KeyValuePair<string, object?>("queue", queue));

    private void Begin(Exception cause, string probeDetail)
    {
        Pause pause;
        lock (gate)
        {
            if (current is not null)
            {
                return;
            }

            pause = new Pause(time.GetUtcNow(), $"{probeDetail}; a message's retries ran out on {cause.GetType().Name}: {cause.Message}");
            Volatile.Write(ref current, pause);
        }

        pauses.Add(1);
        LogPaused(options.CurrentValue.ProbeInterval, pause.Reason);
        _ = Task.Run(() => RunAsync(pause));
    }

    private async Task RunAsync(Pause pause)
    {
        var stopping = lifetime.ApplicationStopping;
        try
        {
            while (true)
            {
                await Task.Delay(options.CurrentValue.ProbeInterval, time, stopping);
                var result = await probe.ProbeAsync(stopping);
                if (result.IsUp)
                {
                    break;
                }

                LogStillDown(result.Detail);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The host is stopping: the held deliveries go back to their queues as the bus stops.
            return;
        }

        lock (gate)
        {
            Volatile.Write(ref current, null);
        }

        LastResumedAt = time.GetUtcNow();
        pause.Resumed.TrySetResult();
        LogResumed(time.GetUtcNow() - pause.Since);
    }

    private CancellationTokenSource StoppingOf(Uri inputAddress) => stopping.GetOrAdd(inputAddress, _ => new CancellationTokenSource());

    // An input queue stops only when the bus stops: then every delivery held on it goes back to its queue at once. (The
    // consumer that stops takes no new delivery, so a delivery put back is not handed straight back to it.)
    public Task Stopping(ReceiveEndpointStopping stopping)
    {
        ArgumentNullException.ThrowIfNull(stopping);
        StoppingOf(stopping.InputAddress).Cancel();
        return Task.CompletedTask;
    }

    public Task Ready(ReceiveEndpointReady ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (StoppingOf(ready.InputAddress).IsCancellationRequested)
        {
            stopping[ready.InputAddress] = new CancellationTokenSource();
        }

        return Task.CompletedTask;
    }

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;

    /// <summary>One outage: since when, why, and the moment ActivePlatform answered again.</summary>
    public sealed class Pause(DateTimeOffset since, string reason)
    {
        public DateTimeOffset Since { get; } = since;

        public string Reason { get; } = reason;

        /// <summary>ActivePlatform answered again.</summary>
        public TaskCompletionSource Resumed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ActivePlatform is down: pausing consumption, probing every {ProbeInterval} until it answers ({Reason}). Messages stay on their queues or are held unhandled; nothing is dead-lettered for the outage.")]
    private partial void LogPaused(TimeSpan probeInterval, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "ActivePlatform is still down: {Detail}")]
    private partial void LogStillDown(string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ActivePlatform answers again: consumption resumed after {Duration}")]
    private partial void LogResumed(TimeSpan duration);

    [LoggerMessage(Level = LogLevel.Information, Message = "A message's retries ran out on {Exception}, but ActivePlatform answers ({Detail}): the failure is the message's own, not an outage")]
    private partial void LogAnsweredProbe(string detail, string exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "ActivePlatform answers ({Detail}) but the client's circuit breaker is still open from its failures: the message waits {BreakDuration} and runs again")]
    private partial void LogCircuitStillOpen(string detail, TimeSpan breakDuration);
}

/// <summary>The <c>activeplatform</c> entry of <c>/health/ready</c>: Degraded (still 200) while consumption is paused.</summary>
internal sealed class ActivePlatformOutageHealthCheck(ActivePlatformOutage outage) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(outage.Current is { } pause
            ? HealthCheckResult.Degraded($"consumption paused since {pause.Since:O}: ActivePlatform is down ({pause.Reason})")
            : HealthCheckResult.Healthy("consuming"));
}

/// <summary>
/// A delivery put back on its queue because ActivePlatform is down. An <see cref="OperationCanceledException"/>, so that
/// MassTransit's error pipe lets it pass (it rescues every other exception into the dead-letter capture): the delivery is
/// not acknowledged and the broker requeues it.
/// </summary>
public sealed class ActivePlatformOutageException : OperationCanceledException
{
    public ActivePlatformOutageException()
        : this("ActivePlatform is down: the message goes back to its queue.")
    {
    }

    public ActivePlatformOutageException(string message)
        : base(message)
    {
    }

    public ActivePlatformOutageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public ActivePlatformOutageException(string message, Exception? innerException, CancellationToken token)
        : base(message, innerException, token)
    {
    }
}

/// <summary>
/// The innermost filter of every input queue's consume pipe, between the retry filters and the consumer, so that what it
/// decides never reaches the retry policy as a failure (no retry, no pending fault, no <c>Fault&lt;T&gt;</c>). While paused, a
/// delivery is held unhandled until ActivePlatform answers again. An ActivePlatform failure on the delivery's last attempt (or
/// on any attempt while paused) asks the outage: when a probe confirms it, the delivery is held the same way and then runs
/// again within the same attempt; when ActivePlatform answers but the client's circuit breaker is still open, it waits out the
/// break and runs again (a few times at most: a breaker that opens again on this message's own calls is its own failure);
/// otherwise the failure goes on to the retry policy and the dead-letter capture as before. A delivery held past
/// <see cref="OutageOptions.HoldLimit"/>, or when its queue stops with the bus, goes back to its queue.
/// </summary>
internal sealed class ActivePlatformOutageFilter(ActivePlatformOutage outage, int retryLimit, DatabaseOutage? database = null) : IFilter<ConsumeContext>
{
    /// <summary>How many times one attempt waits out an open breaker before its failure counts as its own.</summary>
    public const int MaxCircuitWaits = 3;

    /// <summary>How long a delivery Bridge's own rate limit refused waits before it runs again (the hold limit bounds the whole).</summary>
    private static readonly TimeSpan ThrottleWait = TimeSpan.FromSeconds(1);

    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        var wait = TimeSpan.Zero;
        var circuitWaits = 0;
        Exception? cause = null;
        var databaseDown = false;
        var heldForDatabase = false;
        while (true)
        {
            var pause = outage.Current;
            if (pause is not null || wait > TimeSpan.Zero)
            {
                var end = await outage.HoldAsync(context.ReceiveContext.InputAddress, pause, wait, context.ReceiveContext.ElapsedTime, context.CancellationToken);
                if (end != ActivePlatformOutage.HoldEnd.Go)
                {
                    throw databaseDown ? RequeueForDatabase(context, cause) : Requeue(context, cause);
                }

                wait = TimeSpan.Zero;
                databaseDown = false;
                continue;
            }

            try
            {
                await next.Send(context);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException
                && !context.CancellationToken.IsCancellationRequested
                && ActivePlatformOutage.IsActivePlatformFailure(ex)
                && (outage.IsPaused || IsLastAttempt(context)))
            {
                var verdict = await outage.ConfirmAsync(ex, context.CancellationToken);
                if (verdict == ActivePlatformOutage.Verdict.OwnFailure
                    || (verdict == ActivePlatformOutage.Verdict.CircuitOpen && ++circuitWaits > MaxCircuitWaits))
                {
                    throw;
                }

                // Held until ActivePlatform answers (or the breaker has had its break), then run again: the idempotency
                // record and the effect journal settle anything this delivery had sent, as they do for any retry.
                cause = ex;
                wait = verdict switch
                {
                    ActivePlatformOutage.Verdict.CircuitOpen => outage.CircuitBreakDuration,
                    ActivePlatformOutage.Verdict.Throttled => ThrottleWait,
                    _ => TimeSpan.Zero,
                };
            }
            catch (Exception ex) when (database is not null
                && ex is not OperationCanceledException
                && !context.CancellationToken.IsCancellationRequested
                && Storage.DatabaseFailures.IsUnreachable(ex)
                && IsLastAttempt(context)
                && outage.HoldsDuringOutages)
            {
                // Bridge's own database does not answer (a restart, a fail-over): held a probe interval and run again, as the
                // retries would have — whatever the delivery had begun, its idempotency record, claim and effect journal
                // settle on the next run. Answered, the failure is the message's own.
                if (await database.AnswersAsync(context.CancellationToken))
                {
                    // Answered: the failure is the message's own — unless this attempt was held for the database before,
                    // and the rerun met it again as it came back (a stale pooled connection, a second restart): then the
                    // delivery goes back to its queue and returns with its retries, rather than die on the last one.
                    if (heldForDatabase)
                    {
                        throw RequeueForDatabase(context, ex);
                    }

                    throw;
                }

                database.Holding(InputQueues.NameOf(context.ReceiveContext.InputAddress), ex);
                cause = ex;
                databaseDown = true;
                heldForDatabase = true;
                wait = database.ProbeInterval;
            }
            catch (Exception ex) when (heldForDatabase
                && ex is not (OperationCanceledException or Idempotency.DocumentBusyException or Idempotency.EffectPendingException or Idempotency.HeldByDeadLetterException)
                && !context.CancellationToken.IsCancellationRequested
                && !ActivePlatformOutage.IsActivePlatformFailure(ex))
            {
                // The rerun after a hold for the database failed otherwise (a deadlock of all held deliveries rerunning at
                // once, an effect's outcome not recorded while the database was away): its retries were spent on the outage,
                // so it goes back to its queue and returns with them instead of being dead-lettered on the spot. (A document
                // still claimed by the attempt the outage broke, or an effect still pending, waits in the outer retry, which
                // runs the inner retries again from the start.)
                throw RequeueForDatabase(context, ex);
            }
        }
    }

    private DatabaseOutageException RequeueForDatabase(ConsumeContext context, Exception? cause)
    {
        database?.Requeued(InputQueues.NameOf(context.ReceiveContext.InputAddress));
        return new DatabaseOutageException("Bridge's database does not answer: the message goes back to its queue until it does.", cause, context.CancellationToken);
    }

    /// <summary>The last attempt the retry policy gives an ActivePlatform failure (the innermost retry's attempt number).</summary>
    private bool IsLastAttempt(ConsumeContext context) => retryLimit == 0 || context.GetRetryAttempt() >= retryLimit;

    /// <summary>
    /// Puts the delivery back: a cancellation carrying the delivery's own token, which the retry filters rethrow without
    /// retrying or faulting, and the error pipe lets pass, so the delivery is nacked with requeue.
    /// </summary>
    private ActivePlatformOutageException Requeue(ConsumeContext context, Exception? cause)
    {
        outage.Requeued(InputQueues.NameOf(context.ReceiveContext.InputAddress));
        return new ActivePlatformOutageException("ActivePlatform is down: the message goes back to its queue until it answers again.", cause, context.CancellationToken);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("activePlatformOutage");
}
