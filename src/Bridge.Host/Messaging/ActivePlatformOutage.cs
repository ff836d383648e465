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
public sealed partial class ActivePlatformOutage
{
    private readonly Lock gate = new();
    private readonly IActivePlatformProbe probe;
    private readonly IOptionsMonitor<OutageOptions> options;
    private readonly TimeProvider time;
    private readonly IHostApplicationLifetime lifetime;
    private readonly ILogger<ActivePlatformOutage> logger;
    private readonly Counter<long> pauses;
    private readonly Counter<long> requeued;
    private Pause? current;

    public ActivePlatformOutage(
        IActivePlatformProbe probe,
        IOptionsMonitor<OutageOptions> options,
        TimeProvider time,
        IHostApplicationLifetime lifetime,
        ILogger<ActivePlatformOutage> logger,
        IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        this.probe = probe;
        this.options = options;
        this.time = time;
        this.lifetime = lifetime;
        this.logger = logger;
        var meter = meterFactory.Create("Bridge");
        pauses = meter.CreateCounter<long>("bridge.activeplatform.outage.pauses", "{pause}", "Times consumption paused because ActivePlatform was down.");
        requeued = meter.CreateCounter<long>("bridge.activeplatform.outage.requeued", "{message}", "Deliveries put back on their queue, not dead-lettered, because ActivePlatform was down.");
        meter.CreateObservableGauge("bridge.activeplatform.outage.paused", () => IsPaused ? 1 : 0, "{pause}", "1 while consumption is paused for an ActivePlatform outage.");
    }

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

    /// <summary>
    /// Called when a message's retries ran out on <paramref name="cause"/>, an ActivePlatform failure: true when ActivePlatform is
    /// down — consumption is paused (or already was) and the message goes back to its queue; false when a probe gets an answer,
    /// so the failure is this message's own and it is dead-lettered as before.
    /// </summary>
    public async Task<bool> ConfirmAsync(Exception cause, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cause);
        if (!options.CurrentValue.PauseConsumption)
        {
            return false;
        }

        if (IsPaused)
        {
            return true;
        }

        var result = await probe.ProbeAsync(cancellationToken);
        if (result.IsUp)
        {
            LogAnsweredProbe(result.Detail, cause.GetType().Name);
            return false;
        }

        Begin(cause, result.Detail);
        return true;
    }

    /// <summary>
    /// Holds a delivery while <paramref name="pause"/> lasts: true once ActivePlatform answers again; false when the delivery has
    /// been held for <see cref="OutageOptions.HoldLimit"/> (it goes back to its queue before RabbitMQ's consumer timeout closes
    /// the channel under it). Throws when the delivery or the host is cancelled.
    /// </summary>
    public async Task<bool> HoldAsync(Pause pause, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pause);
        using var hold = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var limit = Task.Delay(options.CurrentValue.HoldLimit, time, hold.Token);
        var ended = await Task.WhenAny(pause.Resumed.Task, limit);
        if (ended == pause.Resumed.Task)
        {
            await hold.CancelAsync();
            return true;
        }

        await limit; // throws when cancelled
        return false;
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
            // The host is stopping: the held deliveries go back to their queues as it stops.
            return;
        }

        lock (gate)
        {
            Volatile.Write(ref current, null);
        }

        pause.Resumed.TrySetResult();
        LogResumed(time.GetUtcNow() - pause.Since);
    }

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
}

/// <summary>
/// The outermost filter of every input queue's consume pipe, outside the retry filters: while paused, a delivery is held
/// unhandled until ActivePlatform answers again (or goes back to its queue after <see cref="OutageOptions.HoldLimit"/>); a
/// delivery whose retries ran out on an ActivePlatform failure is held the same way when a probe confirms the outage and then
/// goes back to its queue (its next delivery starts afresh), and goes on to the dead-letter capture otherwise.
/// </summary>
internal sealed class ActivePlatformOutageFilter(ActivePlatformOutage outage) : IFilter<ConsumeContext>
{
    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        while (outage.Current is { } pause)
        {
            if (!await Hold(context, pause, null))
            {
                throw Requeue(context, null);
            }
        }

        try
        {
            await next.Send(context);
        }
        catch (Exception ex) when (ex is not OperationCanceledException
            && !context.CancellationToken.IsCancellationRequested
            && ActivePlatformOutage.IsActivePlatformFailure(ex))
        {
            if (!await outage.ConfirmAsync(ex, context.CancellationToken))
            {
                throw;
            }

            if (outage.Current is { } started)
            {
                await Hold(context, started, ex);
            }

            throw Requeue(context, ex);
        }
    }

    /// <summary>True once ActivePlatform answers again, false after the hold limit; a cancelled hold puts the delivery back.</summary>
    private async Task<bool> Hold(ConsumeContext context, ActivePlatformOutage.Pause pause, Exception? cause)
    {
        try
        {
            return await outage.HoldAsync(pause, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw Requeue(context, cause);
        }
    }

    private ActivePlatformOutageException Requeue(ConsumeContext context, Exception? cause)
    {
        outage.Requeued(DeadLetters.DeadLetterCapture.QueueName(context.ReceiveContext.InputAddress));
        return new ActivePlatformOutageException("ActivePlatform is down: the message goes back to its queue until it answers again.", cause);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("activePlatformOutage");
}
