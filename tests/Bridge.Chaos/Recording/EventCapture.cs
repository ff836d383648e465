using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Bridge.Contracts;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Bridge.Chaos.Recording;

/// <summary>
/// Receives Bridge's result events as a finance workflow would: its own durable queue bound to every
/// <c>Bridge.Contracts:{Event}</c> exchange, acknowledged only once recorded, so events published while the broker or this
/// connection is down are not missed (the queue and persistent messages survive a broker restart; the client reconnects).
/// </summary>
public sealed class EventCapture : IAsyncDisposable
{
    private static readonly Type[] EventTypes = typeof(IResultEvent).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IResultEvent).IsAssignableFrom(t))
        .ToArray();

    // Bridge writes every required member; relaxing 'required' here only keeps one odd event from stopping the capture.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver().WithAddedModifier(info =>
        {
            foreach (var property in info.Properties)
            {
                property.IsRequired = false;
            }
        }),
    };

    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly History _history;
    private long _unreadable;

    private EventCapture(IConnection connection, IChannel channel, History history)
    {
        _connection = connection;
        _channel = channel;
        _history = history;
    }

    /// <summary>Events whose body could not be read as a result event (counted, and reported as a violation).</summary>
    public long Unreadable => Interlocked.Read(ref _unreadable);

    public static async Task<EventCapture> StartAsync(Uri broker, string queue, History history, CancellationToken ct)
    {
        var connection = await Broker.ConnectAsync(broker, "bridge-chaos-events", ct);
        var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: ct);
        foreach (var type in EventTypes)
        {
            var exchange = $"{type.Namespace}:{type.Name}";
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: ct);
            await channel.QueueBindAsync(queue, exchange, string.Empty, cancellationToken: ct);
        }

        await channel.BasicQosAsync(0, 500, false, ct);
        var capture = new EventCapture(connection, channel, history);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += capture.OnDeliveryAsync;
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer, ct);
        return capture;
    }

    private async Task OnDeliveryAsync(object sender, BasicDeliverEventArgs delivery)
    {
        try
        {
            if (Read(delivery.Body) is { } observed)
            {
                _history.Received(observed);
            }
            else
            {
                Interlocked.Increment(ref _unreadable);
            }
        }
        catch (JsonException)
        {
            Interlocked.Increment(ref _unreadable);
        }

        try
        {
            await _channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        }
        catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.AlreadyClosedException or OperationCanceledException)
        {
            // The connection dropped: the broker delivers it again after recovery, and the outbox id de-duplicates it.
        }
    }

    private static ObservedEvent? Read(ReadOnlyMemory<byte> body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var urns = root.GetProperty("messageType").EnumerateArray().Select(u => u.GetString()).ToList();
        var type = EventTypes.FirstOrDefault(t => urns.Contains($"urn:message:{t.Namespace}:{t.Name}"));
        if (type is null || root.GetProperty("message").Deserialize(type, Json) is not IResultEvent resultEvent)
        {
            return null;
        }

        var outboxId = root.TryGetProperty("messageId", out var id) ? id.GetString() : null;
        return new ObservedEvent(DateTimeOffset.UtcNow, outboxId ?? Guid.NewGuid().ToString("D"), resultEvent);
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}

/// <summary>Connections that survive a broker restart: recovery on, retried quickly.</summary>
public static class Broker
{
    public static async Task<IConnection> ConnectAsync(Uri broker, string name, CancellationToken ct)
    {
        var factory = new ConnectionFactory
        {
            Uri = broker,
            ClientProvidedName = name,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
        };
        var deadline = DateTimeOffset.UtcNow.AddMinutes(2);
        while (true)
        {
            try
            {
                return await factory.CreateConnectionAsync(ct);
            }
            catch (RabbitMQ.Client.Exceptions.BrokerUnreachableException) when (DateTimeOffset.UtcNow < deadline)
            {
                // The broker is restarting; try again shortly.
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            }
        }
    }
}
