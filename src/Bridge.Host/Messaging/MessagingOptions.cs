using System.ComponentModel.DataAnnotations;

namespace Bridge.Host.Messaging;

public enum MessagingTransport
{
    RabbitMq,

    /// <summary>MassTransit's in-memory transport: the quick-start demo and nothing else.</summary>
    InMemory,
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
    public string QueuePrefix { get; set; } = "bridge";

    /// <summary>How many messages each input queue processes at once.</summary>
    [Range(1, 256)]
    public int ConcurrentMessageLimit { get; set; } = 8;

    /// <summary>Immediate in-process retries of a transiently failing message before it goes to the error queue.</summary>
    [Range(0, 50)]
    public int RetryLimit { get; set; } = 8;

    public TimeSpan RetryMinInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RetryMaxInterval { get; set; } = TimeSpan.FromSeconds(15);

    public string QueueName(string messageQueue) => $"{QueuePrefix}.{messageQueue}";
}
