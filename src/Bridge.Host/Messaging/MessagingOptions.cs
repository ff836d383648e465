using System.ComponentModel.DataAnnotations;

namespace Bridge.Host.Messaging;

public enum MessagingTransport
{
    RabbitMq,

    /// <summary>MassTransit's in-memory transport: the quick-start demo and nothing else.</summary>
    InMemory,
}

/// <summary>The kind of queue Bridge declares for its input queues (RabbitMQ only).</summary>
public enum QueueType
{
    /// <summary>RabbitMQ's classic queues: a single node holds each queue.</summary>
    Classic,

    /// <summary>Replicated quorum queues (RabbitMQ 3.8+), with a delivery limit past which the broker dead-letters to <c>&lt;queue&gt;_error</c>.</summary>
    Quorum,
}

public sealed class MessagingOptions
{
    public const string Section = "Bridge:Messaging";

    public MessagingTransport Transport { get; set; } = MessagingTransport.RabbitMq;

    /// <summary>AMQP URI of the broker, e.g. <c>amqp://user:password@rabbitmq:5672/vhost</c>. Never logged: it may hold a password.</summary>
    public Uri? RabbitMqUri { get; set; }

    /// <summary>Prefix of every input queue name: <c>{prefix}.send-closing-document</c>.</summary>
    [Required]
    [RegularExpression("^[a-z0-9][a-z0-9._-]*$")]
    public string QueuePrefix { get; set; } = Bridge.Contracts.BridgeQueues.DefaultPrefix;

    /// <summary>How many messages each input queue processes at once.</summary>
    [Range(1, 256)]
    public int ConcurrentMessageLimit { get; set; } = 8;

    /// <summary>The largest <see cref="PrefetchCount"/> accepted.</summary>
    public const int MaxPrefetchCount = 1000;

    /// <summary>
    /// How many unacknowledged messages the broker hands each input queue's consumer ahead of processing; unset keeps
    /// MassTransit's default (twice the processor count, at least 16). When set, at least <see cref="ConcurrentMessageLimit"/>:
    /// fewer would leave that limit unreachable.
    /// </summary>
    public int? PrefetchCount { get; set; }

    /// <summary>
    /// The longest wait between two in-process retries: the message stays unacknowledged meanwhile, so longer delays belong
    /// to a broker-side redelivery, not here.
    /// </summary>
    public static readonly TimeSpan MaxRetryInterval = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The most <see cref="RetryLimit"/> times <see cref="RetryMaxInterval"/> may add up to: with the policy's jitter (up to +25%)
    /// it stays under RabbitMQ's default consumer timeout (30 minutes), past which the broker closes the channel and the
    /// retries start over on a redelivery.
    /// </summary>
    public static readonly TimeSpan MaxRetryBudget = TimeSpan.FromMinutes(20);

    /// <summary>In-process retries of a transiently failing message before it is dead-lettered; 0 means none (one attempt).</summary>
    public int RetryLimit { get; set; } = 8;

    /// <summary>The first retry's delay and the step of the exponential backoff; zero retries at once.</summary>
    public TimeSpan RetryMinInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay between two retries; at least <see cref="RetryMinInterval"/>, at most <see cref="MaxRetryInterval"/>.</summary>
    public TimeSpan RetryMaxInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Classic or quorum input queues. A queue cannot change type in place: an existing deployment is moved by draining,
    /// deleting and redeclaring its queues (README, "Moving to quorum queues").
    /// </summary>
    public QueueType QueueType { get; set; } = QueueType.Classic;

    /// <summary>
    /// Quorum queues only: deliveries of one message (returns after a crash, a stop or an outage pause count; in-process
    /// retries do not) past which the broker dead-letters it to <c>&lt;queue&gt;_error</c>, which Bridge drains into its dead-letter store.
    /// </summary>
    public int DeliveryLimit { get; set; } = 20;

    public string QueueName(string messageQueue) => Bridge.Contracts.BridgeQueues.Name(messageQueue, QueuePrefix);
}
