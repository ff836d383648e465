using System.Runtime.Serialization;
using System.Text.Json;
using Bridge.ActivePlatform.Queries;
using Bridge.Contracts;
using Bridge.Host.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Queries;

/// <summary>Section <c>Bridge:Queries</c>: the query queue.</summary>
public sealed class QueryOptions
{
    public const string Section = "Bridge:Queries";

    /// <summary>
    /// How long a query on the queue may take before it is answered <see cref="QueryFailure.Unavailable"/>. Below the 30 s
    /// MassTransit's request client waits by default: an answer after the asker gave up helps nobody, and ActivePlatform's
    /// own retries (<c>ActivePlatform:TotalTimeout</c>, 90 s) would otherwise decide it.
    /// </summary>
    public TimeSpan AnswerWithin { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>
    /// How long a document ActivePlatform gave is given again to the same query, from either door (<see cref="QueryCache"/>);
    /// zero, the default, keeps nothing. At most <see cref="MaxCacheFor"/>: a read that may be this old must be asked for.
    /// </summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.Zero;

    public static readonly TimeSpan MaxCacheFor = TimeSpan.FromMinutes(10);
}

/// <summary>
/// The query queue's consumer: reads the query (<see cref="QueryReader"/>, as the HTTP gateway does) and answers the asker
/// (<see cref="QueryReplies"/>). A read has no effect to protect, so none of the command queues' machinery applies: no
/// idempotency record, no outbox, no retries, no outage hold, no dead letter. Every query is answered, a failed one with
/// <see cref="QueryFailed"/>, and then acknowledged.
/// </summary>
public sealed class QueryConsumer(QueryReader reader, QueryReplies replies, IOptions<QueryOptions> options, ILogger<QueryConsumer> logger)
    : IConsumer<QueryActivePlatform>
{
    public async Task Consume(ConsumeContext<QueryActivePlatform> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var query = context.Message;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        deadline.CancelAfter(options.Value.AnswerWithin);
        QueryOutcome outcome;
        try
        {
            outcome = await reader.ReadAsync(query, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            outcome = new QueryOutcome.Failed(QueryFailure.Unavailable, $"ActivePlatform did not answer within {options.Value.AnswerWithin.TotalSeconds:0.#} s; try again later.");
        }

        switch (outcome)
        {
            case QueryOutcome.Found found:
                var answered = new QueryAnswered
                {
                    Query = query.Query,
                    ResellerId = reader.ResellerOf(query),
                    Id = query.Id,
                    Document = JsonSerializer.SerializeToElement(found.Document, found.Document.GetType(), QueryJson.Options),
                    PagesRead = found.PagesRead,
                };
                await replies.AnswerAsync(context.ReceiveContext, context, answered, context.CancellationToken);
                break;
            case QueryOutcome.Failed failed:
                logger.LogInformation("Query {Query} answered {Failure}.", Enum.IsDefined(query.Query) ? QueryReader.WireName(query.Query) : "(none)", failed.Failure);
                await replies.AnswerAsync(context.ReceiveContext, context, FailedAnswer(query, reader, failed), context.CancellationToken);
                break;
        }
    }

    private static QueryFailed FailedAnswer(QueryActivePlatform query, QueryReader reader, QueryOutcome.Failed failed) => new()
    {
        Query = Enum.IsDefined(query.Query) ? query.Query : null,
        ResellerId = Enum.IsDefined(query.Query) ? reader.ResellerOf(query) : query.ResellerId,
        Id = query.Id,
        Failure = failed.Failure,
        Message = failed.Message,
        Error = failed.Error,
    };
}

/// <summary>
/// The query queue (<see cref="BridgeQueues.Queries"/> under the deployment's prefix): plain JSON by default and MassTransit's
/// envelope when its content type says so — one request type, so a plain body needs no type header and cannot be taken for
/// another — and, in place of MassTransit's error and skipped queues, an answer: whatever fails the consumer or cannot be
/// read is answered with <see cref="QueryFailed"/> and acknowledged, never moved to <c>_error</c> nor retried.
/// </summary>
public sealed class QueryConsumerDefinition : ConsumerDefinition<QueryConsumer>
{
    private readonly MessagingOptions options;

    public QueryConsumerDefinition(IOptions<MessagingOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        EndpointName = this.options.QueueName(BridgeQueues.Queries);
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint, IConsumerConfigurator<QueryConsumer> consumerConfigurator, IRegistrationContext context)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(context);
        endpoint.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType | RawSerializerOptions.AddTransportHeaders, isDefault: true);
        endpoint.ConcurrentMessageLimit = options.ConcurrentMessageLimit;
        endpoint.PublishFaults = false;
        if (options.QueueType == QueueType.Quorum && endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            // Replicated like the command queues, for the same availability; no delivery limit or dead-lettering: every
            // delivery is answered and acknowledged.
            rabbit.SetQuorumQueue();
        }

        // Resolved at the first answer, not here: this runs while the bus is being built, and on the in-memory transport
        // QueryReplies needs the bus itself (InMemoryQueueTransport) — resolving it now waits on the bus forever.
        var replies = new Lazy<QueryReplies>(() => context.GetRequiredService<QueryReplies>(), LazyThreadSafetyMode.ExecutionAndPublication);
        var logger = context.GetRequiredService<ILoggerFactory>().CreateLogger<QueryConsumer>();
        endpoint.ConfigureError(error => error.UseFilter(new AnswerFailedQueryFilter(replies, logger)));
        endpoint.ConfigureDeadLetter(skipped => skipped.UseFilter(new AnswerSkippedQueryFilter(replies)));
    }
}

/// <summary>
/// The query queue's error pipe: a body that cannot be read as a query is answered <see cref="QueryFailure.InvalidRequest"/>
/// with the reader's complaint; anything else that failed the consumer (a fault of Bridge's own, a stop while reading) is
/// logged and answered <see cref="QueryFailure.Unavailable"/>. The delivery is then acknowledged: a query that failed is
/// answered, and neither retried nor kept.
/// </summary>
public sealed class AnswerFailedQueryFilter(Lazy<QueryReplies> replies, ILogger logger) : IFilter<ExceptionReceiveContext>
{
    public void Probe(ProbeContext context) => context.CreateFilterScope("answerFailedQuery");

    public async Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        QueryFailed answer;
        if (Unreadable(context.Exception) is { } complaint)
        {
            // The requester's own input, quoted back to it: no secret of Bridge's is in a JSON reader's complaint.
            answer = new QueryFailed { Failure = QueryFailure.InvalidRequest, Message = $"The query could not be read: {complaint}" };
        }
        else
        {
            logger.LogError(context.Exception, "A query failed in Bridge; it is answered 'unavailable'.");
            answer = new QueryFailed { Failure = QueryFailure.Unavailable, Message = "Bridge could not answer the query; try again later." };
        }

        context.TryGetPayload<ConsumeContext>(out var consume);
        await replies.Value.AnswerAsync(context, consume, answer, CancellationToken.None);

        // Marks the delivery faulted, as MassTransit's own GenerateFaultFilter does: otherwise the skipped-message pipe, which
        // runs for whatever no consumer took, would answer it a second time.
        await context.NotifyFaulted(context.Exception);
        await next.Send(context);
    }

    private static string? Unreadable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is JsonException json)
            {
                return json.Message;
            }
        }

        return exception is SerializationException or InvalidDataException ? "it is not a JSON object." : null;
    }
}

/// <summary>
/// The query queue's skipped-message pipe: a MassTransit message of another type than <see cref="QueryActivePlatform"/> is
/// answered <see cref="QueryFailure.InvalidRequest"/> and acknowledged, not moved to <c>_skipped</c>.
/// </summary>
public sealed class AnswerSkippedQueryFilter(Lazy<QueryReplies> replies) : IFilter<ReceiveContext>
{
    public void Probe(ProbeContext context) => context.CreateFilterScope("answerSkippedQuery");

    public async Task Send(ReceiveContext context, IPipe<ReceiveContext> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        context.TryGetPayload<ConsumeContext>(out var consume);
        await replies.Value.AnswerAsync(
            context,
            consume,
            new QueryFailed { Failure = QueryFailure.InvalidRequest, Message = $"Only {nameof(QueryActivePlatform)} is answered on this queue." },
            CancellationToken.None);
        await next.Send(context);
    }
}
