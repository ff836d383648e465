using System.Collections;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using Bridge.Host.Hosting;
using Bridge.Host.Idempotency;
using MassTransit;

namespace Bridge.Host.Messaging;

/// <summary>
/// One handled ERP message as telemetry sees it: its flow (the contract's name), identity, ERP key and what became of it.
/// Made by <see cref="MessageHandlingFilter{T}"/> once per delivery (around every retry of it) and carried to the handler
/// on <see cref="IncomingMessage.Handling"/>, where the outcome is recorded.
/// </summary>
public sealed class MessageHandling
{
    public MessageHandling(IncomingMessage incoming, string? erpKey, Activity? activity)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        Incoming = incoming with { Handling = this };
        ErpKey = erpKey;
        Activity = activity;
    }

    public IncomingMessage Incoming { get; }

    public string Flow => Incoming.MessageType;

    public string? ErpKey { get; private set; }

    public Activity? Activity { get; }

    /// <summary>The last outcome the handler recorded; null while none was (or when the message failed).</summary>
    public HandlingOutcome? Outcome { get; private set; }

    public void Record(HandlingOutcome outcome, string? erpKey = null)
    {
        Outcome = outcome;
        if (!string.IsNullOrEmpty(erpKey) && ErpKey is null)
        {
            ErpKey = erpKey;
            Activity?.SetTag(MessageTags.ErpKey, erpKey);
        }
    }
}

/// <summary>Attribute names on the handling span (and in the logging scope, as PascalCase).</summary>
public static class MessageTags
{
    public const string Flow = "bridge.flow";
    public const string Outcome = "bridge.outcome";
    public const string ErpKey = "bridge.erp_key";
    public const string IdempotencyKey = "bridge.idempotency_key";
    public const string CorrelationId = "bridge.correlation_id";
}

/// <summary>
/// Message instruments on the <c>Bridge</c> meter: messages handled by flow and outcome, their handling duration, retries,
/// document claims found busy and async-task polls.
/// </summary>
public sealed class MessageMetrics
{
    private readonly Counter<long> handled;
    private readonly Histogram<double> duration;
    private readonly Counter<long> retries;
    private readonly Counter<long> claimsBusy;

    public MessageMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(BridgeTelemetry.Name);
        handled = Meter.CreateCounter<long>("bridge.messages.handled", "{message}", "ERP messages handled, by flow and outcome (Applied, Skipped, Rejected, Duplicate; Failed when retries ran out, Interrupted by shutdown, Requeued when an ActivePlatform outage put it back on its queue).");
        duration = Meter.CreateHistogram<double>(
            "bridge.messages.duration",
            "s",
            "Time from a message's delivery to its outcome, retries included, by flow and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });
        retries = Meter.CreateCounter<long>("bridge.messages.retries", "{retry}", "Deliveries retried in process, by flow and reason (the exception's type, e.g. DocumentBusyException).");
        claimsBusy = Meter.CreateCounter<long>("bridge.claims.busy", "{claim}", "Document claims found held by another delivery (the message is retried), by flow.");
    }

    public Meter Meter { get; }

    public void Handled(string flow, string outcome, TimeSpan elapsed)
    {
        var tags = new TagList { { "flow", flow }, { "outcome", outcome } };
        handled.Add(1, tags);
        duration.Record(elapsed.TotalSeconds, tags);
    }

    public void Retried(string flow, string reason) =>
        retries.Add(1, new KeyValuePair<string, object?>("flow", flow), new KeyValuePair<string, object?>("reason", reason));

    public void ClaimBusy(string flow) => claimsBusy.Add(1, new KeyValuePair<string, object?>("flow", flow));
}

/// <summary>
/// Wraps the handling of one delivery, its retries included: a <c>Bridge</c> span (<c>handle {flow}</c>) with the flow,
/// outcome, ERP key and idempotency key as attributes (never the payload), a logging scope with the correlation id,
/// idempotency key, ERP key and flow, and the outcome counter and duration histogram. Runs before the retry filters.
/// </summary>
public sealed partial class MessageHandlingFilter<T>(MessageMetrics metrics, ILogger logger) : IFilter<ConsumeContext>
    where T : class
{
    private static readonly Func<T, string?>? KeyOf = StringProperty("Key");
    private static readonly Func<T, string?>? IdempotencyKeyOf = StringProperty("IdempotencyKey");
    private static readonly string Flow = typeof(T).Name;
    private static readonly string SpanName = "handle " + typeof(T).Name;

    public void Probe(ProbeContext context) => context.CreateFilterScope("bridgeMessageHandling");

    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var started = Stopwatch.GetTimestamp();
        var handling = Begin(context);
        using var activity = handling?.Activity;
        using var scope = handling is null ? null : logger.BeginScope(new HandlingScope(handling));
        try
        {
            await next.Send(context);
            var outcome = handling?.Outcome?.ToString() ?? "Consumed";
            activity?.SetTag(MessageTags.Outcome, outcome);
            metrics.Handled(Flow, outcome, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception ex)
        {
            var outcome = ex switch
            {
                ActivePlatformOutageException or DatabaseOutageException => "Requeued",
                OperationCanceledException when context.CancellationToken.IsCancellationRequested => "Interrupted",
                _ => "Failed",
            };
            activity?.SetTag(MessageTags.Outcome, outcome);
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            metrics.Handled(Flow, outcome, Stopwatch.GetElapsedTime(started));
            throw;
        }
    }

    /// <summary>Reads the delivery's identity once; null when the body cannot be read as <typeparamref name="T"/> (it fails later, as before).</summary>
    private MessageHandling? Begin(ConsumeContext context)
    {
        ConsumeContext<T>? typed;
        try
        {
            if (!context.TryGetMessage(out typed))
            {
                return null;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogUnreadable(logger, Flow, ex.GetType().Name);
            return null;
        }

        var incoming = IncomingMessageFactory.Identify(typed, IdempotencyKeyOf?.Invoke(typed.Message));
        var erpKey = KeyOf?.Invoke(typed.Message);
        var activity = BridgeTelemetry.Source.StartActivity(SpanName, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(MessageTags.Flow, Flow);
            activity.SetTag(MessageTags.IdempotencyKey, incoming.IdempotencyKey);
            activity.SetTag(MessageTags.CorrelationId, incoming.CorrelationId);
            if (erpKey is not null)
            {
                activity.SetTag(MessageTags.ErpKey, erpKey);
            }

            // A publisher that sent a W3C traceparent of its own (not MassTransit's header) is linked, not lost.
            if (incoming.TraceParent is { } upstream && ActivityContext.TryParse(upstream, null, out var upstreamContext)
                && upstreamContext.TraceId != activity.TraceId)
            {
                activity.AddLink(new ActivityLink(upstreamContext));
            }
        }

        var handling = new MessageHandling(incoming, erpKey, activity);
        context.GetOrAddPayload(() => handling);
        return handling;
    }

    private static Func<T, string?>? StringProperty(string name)
    {
        var property = typeof(T).GetProperty(name, BindingFlags.Public | BindingFlags.Instance);
        return property?.PropertyType == typeof(string) ? message => (string?)property.GetValue(message) : null;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Flow} body could not be read for telemetry ({ExceptionType})")]
    private static partial void LogUnreadable(ILogger logger, string flow, string exceptionType);

    /// <summary>The logging scope: structured (each a property of the JSON console formatter and of OTLP logs) and readable.</summary>
    private sealed class HandlingScope(MessageHandling handling) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 4;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("Flow", handling.Flow),
            1 => new("CorrelationId", handling.Incoming.CorrelationId),
            2 => new("IdempotencyKey", handling.Incoming.IdempotencyKey),
            3 => new("ErpKey", handling.ErpKey),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() =>
            $"{handling.Flow} idempotency key {handling.Incoming.IdempotencyKey}, ERP key {handling.ErpKey}, correlation id {handling.Incoming.CorrelationId}";
    }
}

/// <summary>
/// Counts in-process retries and logs each one as a single line without a stack trace: a busy document, a pending effect
/// or a transient ActivePlatform failure is expected and retried; only a message whose retries run out is an error.
/// </summary>
public sealed partial class RetryTelemetry(MessageMetrics metrics, string flow, ILogger logger) : IRetryObserver
{
    public Task PostCreate<T>(RetryPolicyContext<T> context)
        where T : class, PipeContext => Task.CompletedTask;

    public Task PostFault<T>(RetryContext<T> context)
        where T : class, PipeContext
    {
        ArgumentNullException.ThrowIfNull(context);
        var reason = context.Exception.GetType().Name;
        metrics.Retried(flow, reason);
        LogRetry(logger, flow, reason, context.Exception.Message, context.RetryAttempt + 1, context.Delay ?? TimeSpan.Zero);
        return Task.CompletedTask;
    }

    public Task PreRetry<T>(RetryContext<T> context)
        where T : class, PipeContext => Task.CompletedTask;

    public Task RetryFault<T>(RetryContext<T> context)
        where T : class, PipeContext => Task.CompletedTask;

    public Task RetryComplete<T>(RetryContext<T> context)
        where T : class, PipeContext => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "{Flow} will be retried ({Reason}: {Detail}); retry {Retry} in {Delay}")]
    private static partial void LogRetry(ILogger logger, string flow, string reason, string detail, int retry, TimeSpan delay);
}
