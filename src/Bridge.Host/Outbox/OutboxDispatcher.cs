using System.Diagnostics;
using Bridge.Host.Hosting;
using Bridge.Host.Storage;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Outbox;

/// <summary>
/// Publishes result events from the outbox to the broker. Several Bridge instances may run it at once: each claims its rows
/// with the database's skip-locked form, and a claim expires after a lease so a crashed instance's rows are picked up.
/// A message that fails to publish is tried again after a growing delay, behind every message not yet tried, and is
/// parked (kept, logged as an error, counted) after <see cref="OutboxOptions.MaxAttempts"/> failures, so no message that
/// keeps failing ever holds back the ones behind it.
/// </summary>
public sealed partial class OutboxDispatcher(
    IOutboxStore outbox,
    IBus bus,
    OutboxSignal signal,
    IOptions<OutboxOptions> options,
    OutboxMetrics metrics,
    TimeProvider clock,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private DateTimeOffset _nextPurge = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        await WarmUpAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Another full batch right away while anything publishes (the failed rows wait out their retry delay, so
                // the next batch holds other rows); when nothing did, the next pass waits for the poll interval, so a
                // broker refusing every publish is not hammered in a tight loop.
                BatchResult result;
                do
                {
                    result = await DispatchBatchAsync(settings, stoppingToken);
                }
                while (result.Claimed == settings.BatchSize && result.Failed < result.Claimed && !stoppingToken.IsCancellationRequested);

                await PurgeWhenDueAsync(settings, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPassFailed(logger, ex);
            }

            await signal.WaitAsync(settings.PollInterval, stoppingToken);
        }
    }

    /// <summary>
    /// Publishes one <see cref="OutboxWarmUp"/> as the service starts, while the first messages are still being handled: the
    /// first publish of a process opens its channel, declares an exchange and compiles the whole publish path, which took
    /// 0.2–0.7 s on a busy 2-core machine, and every event committed meanwhile waited for it (the benchmark's outbox lag
    /// p99 of a 2 000-message burst). Its exchange (<c>Bridge.Host.Outbox:OutboxWarmUp</c>) has no queue bound to it, so
    /// the broker drops it; a failure or a broker not answering within 10 s is only logged (the first real publish then
    /// pays the cost).
    /// </summary>
    private async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        // Bounded: a broker not reachable yet must not hold back the dispatch loop, which has its own retries.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await bus.Publish(new OutboxWarmUp(DateTimeOffset.UtcNow), bounded.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogWarmUpFailed(logger, ex);
        }
    }

    public readonly record struct BatchResult(int Claimed, int Failed);

    /// <summary>
    /// Claims and publishes one batch: every message at once (the broker confirms them in parallel), then the published ones
    /// are marked in one statement. Events carry no order among themselves (two instances dispatch at once as well; a
    /// subscriber that needs one, orders by <c>occurredAt</c>); a failed publish is recorded for that message alone.
    /// </summary>
    public async Task<BatchResult> DispatchBatchAsync(OutboxOptions settings, CancellationToken cancellationToken)
    {
        var batch = await outbox.ClaimAsync(_owner, settings.BatchSize, settings.ClaimLease, cancellationToken);
        // Each publish gets half the claim's lease: a publish the broker never confirms is recorded as failed instead of
        // holding back the marks of the whole batch until the lease runs out and another instance publishes it all again.
        using var publishing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        publishing.CancelAfter(settings.ClaimLease / 2);
        var errors = await Task.WhenAll(batch.Select(message => PublishAsync(message, publishing.Token)));

        // Published: recorded even when shutting down, or the events are published again after the lease.
        var published = batch.Where((_, i) => errors[i] is null).Select(message => message.Id).ToList();
        await outbox.MarkDispatchedAsync(published, _owner, CancellationToken.None);

        var failed = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            if (errors[i] is { } error && !(error is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                failed++;
                await RecordFailureAsync(settings, batch[i], error is OperationCanceledException ? new TimeoutException($"The broker did not confirm the publish within {settings.ClaimLease / 2}.", error) : error);
            }
        }

        // A publish cancelled by the shutdown is neither published nor failed: its claim lapses and it is tried again.
        cancellationToken.ThrowIfCancellationRequested();
        return new BatchResult(batch.Count, failed);
    }

    /// <summary>Publishes one message; the exception it failed with, or null.</summary>
    private async Task<Exception?> PublishAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        // The publish is a span in the trace of the handling that wrote the event (stored with the row).
        var (traceParent, traceState) = TraceContextOf(message, out var headers);
        using var activity = StartPublishActivity(message, traceParent, traceState);
        try
        {
            var contract = ResultEvents.Deserialize(message);
            await bus.Publish(contract, contract.GetType(), Pipe.Execute<PublishContext>(context =>
            {
                // The outbox id is the event's message id, so subscribers can drop a duplicate publish.
                context.MessageId = message.Id;
                if (Guid.TryParse(headers.GetValueOrDefault("correlationId"), out var correlationId))
                {
                    context.CorrelationId = correlationId;
                }

                foreach (var (name, value) in headers)
                {
                    if (value is not null && !string.Equals(name, TraceParentHeader, StringComparison.Ordinal))
                    {
                        context.Headers.Set($"bridge-{name}", value);
                    }
                }

                // The standard W3C headers, so any subscriber's tracing continues the trace: the innermost span here
                // (MassTransit's send span when it is traced, else the publish span), else the stored context.
                var current = Activity.Current;
                var sentParent = BridgeTelemetry.TraceParentOf(current) ?? traceParent;
                var sentState = BridgeTelemetry.TraceParentOf(current) is null ? traceState : current!.TraceStateString;
                if (sentParent is not null)
                {
                    context.Headers.Set(TraceParentHeader, sentParent);
                }

                if (!string.IsNullOrEmpty(sentState))
                {
                    context.Headers.Set(TraceStateHeader, sentState);
                }
            }), cancellationToken);
            return null;
        }
        catch (Exception ex)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            }

            return ex;
        }
    }

    public const string TraceParentHeader = "traceparent";
    public const string TraceStateHeader = "tracestate";

    /// <summary>The row's stored trace context; rows written before it had a column of its own carried it in their headers.</summary>
    private static (string? TraceParent, string? TraceState) TraceContextOf(OutboxMessage message, out IReadOnlyDictionary<string, string?> headers)
    {
        try
        {
            headers = ResultEvents.Headers(message);
        }
        catch (System.Text.Json.JsonException)
        {
            headers = new Dictionary<string, string?>();
        }

        return message.TraceParent is not null
            ? (message.TraceParent, message.TraceState)
            : ResultEvents.TraceContext(null, headers.GetValueOrDefault(TraceParentHeader));
    }

    private static Activity? StartPublishActivity(OutboxMessage message, string? traceParent, string? traceState)
    {
        ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent);
        var activity = BridgeTelemetry.Source.StartActivity("outbox publish " + message.MessageType, ActivityKind.Internal, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("bridge.outbox.id", message.Id.ToString("D"));
            activity.SetTag("bridge.outbox.message_type", message.MessageType);
            activity.SetTag("bridge.outbox.attempts", message.Attempts);
        }

        return activity;
    }

    /// <summary>
    /// Schedules the next attempt after a growing delay, or parks the message once it has failed too often — failed as such:
    /// a broker that cannot be reached, or does not confirm in time, says nothing about the message, and parking every
    /// waiting event after an outage longer than the retry budget would leave "published at least once" to an operator.
    /// Those failures are retried (at most <see cref="OutboxOptions.RetryMaxDelay"/> apart) for as long as the outage lasts.
    /// </summary>
    private async Task RecordFailureAsync(OutboxOptions settings, OutboxMessage message, Exception exception)
    {
        metrics.PublishFailed(message.MessageType);
        var error = exception.GetType().Name + ": " + exception.Message;
        var failedAttempts = message.Attempts + 1;
        if (failedAttempts >= settings.MaxAttempts && !BrokerUnavailable(exception))
        {
            if (await outbox.ParkAsync(message.Id, _owner, error, CancellationToken.None))
            {
                metrics.Parked(message.MessageType);
                LogParked(logger, message.Id, message.MessageType, failedAttempts, exception);
            }

            return;
        }

        var retryAfter = settings.RetryDelay(failedAttempts);
        LogPublishFailed(logger, message.Id, message.MessageType, failedAttempts, retryAfter, exception);
        await outbox.MarkFailedAsync(message.Id, _owner, error, retryAfter, CancellationToken.None);
    }

    /// <summary>
    /// Whether the failure is the broker's, not the message's: the connection is down or refused, or the publish was not
    /// confirmed in time. Judged by the exception chain's types (RabbitMQ.Client's and MassTransit's connection failures,
    /// sockets, I/O, timeouts), never by message text.
    /// </summary>
    internal static bool BrokerUnavailable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException or IOException
                or RabbitMQ.Client.Exceptions.BrokerUnreachableException or RabbitMQ.Client.Exceptions.AlreadyClosedException
                or RabbitMQ.Client.Exceptions.OperationInterruptedException or RabbitMQ.Client.Exceptions.ConnectFailureException
                or MassTransit.RabbitMqConnectionException or MassTransit.TransportUnavailableException)
            {
                return true;
            }
        }

        return false;
    }

    private async Task PurgeWhenDueAsync(OutboxOptions settings, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (now < _nextPurge)
        {
            return;
        }

        _nextPurge = now.AddMinutes(10);
        await outbox.PurgeDispatchedAsync(now - settings.RetainDispatchedFor, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "The outbox's warm-up publish failed; the first event's publish opens the channel instead")]
    private static partial void LogWarmUpFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox dispatch pass failed; retrying after the poll interval")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing outbox message {OutboxId} ({MessageType}) failed (attempt {Attempts}); it stays in the outbox and is tried again in {RetryAfter}")]
    private static partial void LogPublishFailed(ILogger logger, Guid outboxId, string messageType, int attempts, TimeSpan retryAfter, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox message {OutboxId} ({MessageType}) failed to publish {Attempts} times and is parked: it stays in the outbox, unpublished, until an operator requeues it")]
    private static partial void LogParked(ILogger logger, Guid outboxId, string messageType, int attempts, Exception exception);
}

/// <summary>Published once as an instance starts, to nobody (no queue is bound to its exchange): see <c>OutboxDispatcher.WarmUpAsync</c>.</summary>
public sealed record OutboxWarmUp(DateTimeOffset At);
