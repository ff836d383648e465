using System.Reflection;
using System.Runtime.Serialization;
using System.Text.Json;
using Bridge.Host.Idempotency;
using MassTransit;
using MassTransit.Configuration;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Messaging;

/// <summary>
/// Every ERP input queue in one place: its name (the consumer's <c>Queue</c> constant under <c>Bridge:Messaging:QueuePrefix</c>),
/// plain JSON, the concurrency and prefetch, the queue type, and the pipe around the consumer — telemetry outside everything,
/// the two retry policies, the outage hold innermost, the dead-letter capture. Consumers are found by convention
/// (<see cref="BridgeConsumers"/>): a consumer of an ERP message with a <c>Queue</c> constant gets an endpoint, and nothing else
/// has to be listed anywhere.
/// </summary>
public sealed class BridgeConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    private readonly MessagingOptions options;

    public BridgeConsumerDefinition(IOptions<MessagingOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        EndpointName = this.options.QueueName(BridgeConsumers.QueueOf(typeof(TConsumer)));
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint, IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(context);

        // ERPs such as 1C publish plain JSON, often with no content type: plain JSON is the default, and MassTransit's
        // envelope is still read when its content type says so.
        endpoint.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType | RawSerializerOptions.AddTransportHeaders, isDefault: true);
        endpoint.ConcurrentMessageLimit = options.ConcurrentMessageLimit;
        if (options.PrefetchCount is { } prefetch)
        {
            endpoint.PrefetchCount = prefetch;
        }

        if (options.QueueType == QueueType.Quorum && endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            MessagingRegistration.DeclareQuorum(rabbit, options);
        }

        // Bridge answers every message with its own result events (a dead letter with ErpMessageDeadLettered), not
        // MassTransit's Fault<T>: a fault published when retries ran out would be a second answer to a message that an
        // outage holds and then applies.
        endpoint.PublishFaults = false;

        // Ahead of the message's pipe, so outside its retries (UseFilter would put it inside them): the telemetry around the
        // whole handling, retries and outage holds included: the span, the logging scope, the outcome.
        var flow = BridgeConsumers.MessageTypeOf(typeof(TConsumer));
        endpoint.AddPrePipeSpecification(new FilterPipeSpecification<ConsumeContext>(MessagingRegistration.MessageHandlingFilterFor<TConsumer>(context)));

        // Innermost, between the retries and the consumer: while ActivePlatform (or Bridge's database) is down deliveries are
        // held unhandled and none is dead-lettered; what it decides never reaches the retry policy as a failure.
        var outage = context.GetRequiredService<ActivePlatformOutage>();
        endpoint.ConnectReceiveEndpointObserver(outage);
        endpoint.UseFilter(new ActivePlatformOutageFilter(outage, options.RetryLimit, context.GetRequiredService<DatabaseOutage>()));
        var retryTelemetry = new RetryTelemetry(
            context.GetRequiredService<MessageMetrics>(), flow, context.GetRequiredService<ILoggerFactory>().CreateLogger("Bridge.Host.Messaging.Retries"));

        // A document another delivery holds frees up when that delivery ends or, if its instance died, when the claim's lease
        // runs out: this outer retry waits that long. Everything else transient gets the inner, faster retry.
        var lease = context.GetRequiredService<IOptions<IdempotencyOptions>>().Value.DocumentClaimLease;
        var activePlatform = context.GetRequiredService<IOptions<Bridge.ActivePlatform.ActivePlatformOptions>>().Value;
        endpoint.UseMessageRetry(retry =>
        {
            retry.Interval(RetryBudgets.BusyRetries(lease, activePlatform), RetryBudgets.BusyInterval);
            retry.Handle<DocumentBusyException>();
            retry.Handle<EffectPendingException>();
            retry.ConnectRetryObserver(retryTelemetry);
        });

        // MassTransit's exponential policy cannot be built for zero retries (it fails while handling the first exception, and
        // its failure replaces the real cause): no retries means no retry filter at all.
        if (options.RetryLimit > 0)
        {
            endpoint.UseMessageRetry(retry =>
            {
                retry.Exponential(options.RetryLimit, options.RetryMinInterval, options.RetryMaxInterval, options.RetryMinInterval);

                // A body that cannot be read will never become readable: straight to the error queue.
                retry.Ignore<SerializationException>();
                retry.Ignore<JsonException>();
                retry.Ignore<DocumentBusyException>();
                retry.Ignore<EffectPendingException>();
                retry.Ignore<EffectOutcomeUnknownException>();
                retry.Ignore<HeldByDeadLetterException>();

                retry.ConnectRetryObserver(retryTelemetry);
            });
        }

        context.GetRequiredService<IInputQueueErrorPipe>().Configure(endpoint, flow, context);
    }
}

/// <summary>
/// The ERP consumers, found by convention: public consumers of this assembly with a <c>public const string Queue</c>, each set
/// from <see cref="Bridge.Contracts.BridgeQueues"/> (the names ERP teams get with the contracts package).
/// </summary>
public static class BridgeConsumers
{
    /// <summary>Every ERP consumer with its queue (without the prefix), ordered by queue.</summary>
    public static IReadOnlyList<(Type Consumer, string Queue)> All { get; } = [.. typeof(BridgeConsumers).Assembly.GetTypes()
        .Where(type => type is { IsClass: true, IsAbstract: false, IsPublic: true }
            && type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>))
            && QueueField(type) is not null)
        .Select(type => (type, QueueOf(type)))
        .OrderBy(consumer => consumer.Item2, StringComparer.Ordinal)];

    /// <summary>The consumer's <c>Queue</c> constant.</summary>
    public static string QueueOf(Type consumer) =>
        QueueField(consumer)?.GetRawConstantValue() as string
        ?? throw new InvalidOperationException($"{consumer.Name} has no 'public const string Queue': it cannot be given an input queue.");

    /// <summary>Registers every ERP consumer with <see cref="BridgeConsumerDefinition{TConsumer}"/>.</summary>
    public static void AddBridgeConsumers(this IBusRegistrationConfigurator bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        foreach (var (consumer, _) in All)
        {
            bus.AddConsumer(consumer, typeof(BridgeConsumerDefinition<>).MakeGenericType(consumer));
        }
    }

    /// <summary>The contract a consumer handles: its <see cref="IConsumer{TMessage}"/> message's name.</summary>
    /// <summary>The contract the consumer consumes (its one <c>IConsumer&lt;T&gt;</c>).</summary>
    public static Type ContractOf(Type consumerType)
    {
        ArgumentNullException.ThrowIfNull(consumerType);
        return consumerType.GetInterfaces()
            .Single(type => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IConsumer<>))
            .GetGenericArguments()[0];
    }

    public static string MessageTypeOf(Type consumerType)
    {
        ArgumentNullException.ThrowIfNull(consumerType);
        var consumed = consumerType.GetInterfaces()
            .Where(type => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IConsumer<>))
            .Select(type => type.GetGenericArguments()[0])
            .ToList();
        return consumed.Count == 1
            ? consumed[0].Name
            : throw new ArgumentException($"{consumerType.Name} consumes {consumed.Count} message types; dead-letter capture needs one queue per message type.", nameof(consumerType));
    }

    private static FieldInfo? QueueField(Type type) =>
        type.GetField("Queue", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field && field.FieldType == typeof(string) ? field : null;
}
