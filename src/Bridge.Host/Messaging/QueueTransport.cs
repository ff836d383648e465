using MassTransit;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Bridge.Host.Messaging;

/// <summary>A message to put on a queue exactly as given: body bytes, AMQP properties and headers.</summary>
public sealed record OutgoingMessage(
    string Queue,
    ReadOnlyMemory<byte> Body,
    string? MessageId,
    string? CorrelationId,
    string? ContentType,
    IReadOnlyDictionary<string, string?> Properties,
    IReadOnlyDictionary<string, string?> Headers);

/// <summary>
/// Puts a message straight on a queue by name (the default exchange, the queue as routing key), confirmed by the broker
/// before it returns: dead letters replayed and messages that came through the HTTP door onto an input queue, and answers to
/// queries onto the asker's <c>reply_to</c> queue.
/// </summary>
public interface IQueueTransport
{
    /// <summary>
    /// Sends <paramref name="message"/>, confirmed by the broker. A failure known to have come before anything was handed to
    /// the broker (no connection or channel could be had) is a <see cref="MessageNotSentException"/>; any other failure may
    /// have come after the broker took the message.
    /// </summary>
    Task SendAsync(OutgoingMessage message, CancellationToken cancellationToken);
}

/// <summary>A send that failed before anything reached the broker: the message is certainly not on the queue.</summary>
public sealed class MessageNotSentException(string message, Exception innerException) : Exception(message, innerException);

/// <summary>
/// Publishes with RabbitMQ's own client rather than through MassTransit: a replay (or an ERP's body sent over HTTP) must carry the original body byte for byte
/// and the original <c>message_id</c>, which may be any string (an ERP's), while MassTransit re-serializes and only knows
/// GUID message ids. Publisher confirms and the mandatory flag make an unroutable or refused message an exception.
/// Each publish has a channel of its own while it waits for its confirm (up to <see cref="MaxChannels"/> at once, on one
/// connection): door requests and operator replays no longer queue behind one another's confirms. A channel is never
/// shared by two publishes in flight (concurrent confirm tracking on one channel has had bugs in the 7.x client), and one
/// whose publish failed is closed, never reused.
/// </summary>
public sealed class RabbitMqQueueTransport(IOptions<MessagingOptions> options) : IQueueTransport, IAsyncDisposable
{
    /// <summary>How many publishes may wait for their confirms at once; more wait for a channel.</summary>
    public const int MaxChannels = 8;

    private readonly SemaphoreSlim slots = new(MaxChannels, MaxChannels);
    private readonly SemaphoreSlim connecting = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentBag<IChannel> idle = [];
    private IConnection? connection;
    private int created;

    /// <summary>Channels opened so far (for tests and diagnostics): at most one per publish in flight, reused after.</summary>
    public int ChannelsOpened => Volatile.Read(ref created);

    public async Task SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var properties = new BasicProperties
        {
            MessageId = message.MessageId,
            CorrelationId = message.CorrelationId,
            ContentType = message.ContentType,
            ContentEncoding = message.Properties.GetValueOrDefault("content_encoding"),
            Type = message.Properties.GetValueOrDefault("type"),
            AppId = message.Properties.GetValueOrDefault("app_id"),
            Persistent = true,
            Headers = message.Headers.Where(header => header.Value is not null).ToDictionary(header => header.Key, header => (object?)header.Value),
        };

        await slots.WaitAsync(cancellationToken);
        IChannel? channel = null;
        try
        {
            try
            {
                channel = await RentAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // No channel, so no publish: nothing of this message reached the broker.
                // The type only: a client's message can hold the broker's address.
                throw new MessageNotSentException($"Nothing was sent to {message.Queue}: no channel to the broker ({ex.GetType().Name}).", ex);
            }

            await channel.BasicPublishAsync(string.Empty, message.Queue, mandatory: true, properties, message.Body, cancellationToken);
            idle.Add(channel);
            channel = null;
        }
        finally
        {
            if (channel is not null)
            {
                // A channel that failed a publish may be closed, or hold a confirm that will never come: never reused.
                await DisposeQuietlyAsync(channel);
            }

            slots.Release();
        }
    }

    private async Task<IChannel> RentAsync(CancellationToken cancellationToken)
    {
        while (idle.TryTake(out var channel))
        {
            if (channel.IsOpen)
            {
                return channel;
            }

            await DisposeQuietlyAsync(channel);
        }

        var open = await ConnectionAsync(cancellationToken);
        var fresh = await open.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        Interlocked.Increment(ref created);
        return fresh;
    }

    private async Task<IConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        if (connection is { IsOpen: true } current)
        {
            return current;
        }

        await connecting.WaitAsync(cancellationToken);
        try
        {
            if (connection is { IsOpen: true } opened)
            {
                return opened;
            }

            if (connection is not null)
            {
                await DisposeQuietlyAsync(connection);
                connection = null;
            }

            var uri = options.Value.RabbitMqUri ?? throw new InvalidOperationException($"{MessagingOptions.Section}:RabbitMqUri is not set.");
            connection = await new ConnectionFactory { Uri = uri, ClientProvidedName = "bridge-queue-transport" }.CreateConnectionAsync(cancellationToken);
            return connection;
        }
        finally
        {
            connecting.Release();
        }
    }

    private static async Task DisposeQuietlyAsync(IAsyncDisposable disposable)
    {
        try
        {
            await disposable.DisposeAsync();
        }
        catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.RabbitMQClientException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Closing something already broken: nothing to keep.
        }
    }

    public async ValueTask DisposeAsync()
    {
        while (idle.TryTake(out var channel))
        {
            await DisposeQuietlyAsync(channel);
        }

        if (connection is not null)
        {
            await DisposeQuietlyAsync(connection);
            connection = null;
        }

        slots.Dispose();
        connecting.Dispose();
    }
}

/// <summary>
/// The in-memory transport (the demo and the try-it mode) has no broker a second client could reach, so a message is sent
/// through the bus itself: its body (or, for a dead letter this transport sent before, the message inside MassTransit's
/// envelope) read into the queue's contract, its id carried as the contract's <c>idempotencyKey</c> when the body has none
/// (MassTransit's own message ids are GUIDs), its headers as headers. Nothing here survives a restart, which is what the
/// in-memory transport promises anyway.
/// </summary>
public sealed class InMemoryQueueTransport(IBus bus, IOptions<MessagingOptions> options) : IQueueTransport
{
    public async Task SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var contract = BridgeConsumers.All
            .Where(consumer => string.Equals(options.Value.QueueName(consumer.Queue), message.Queue, StringComparison.Ordinal))
            .Select(consumer => BridgeConsumers.ContractOf(consumer.Consumer))
            .FirstOrDefault()
            ?? throw new InvalidOperationException($"'{message.Queue}' is not one of Bridge's input queues.");

        var body = System.Text.Json.Nodes.JsonNode.Parse(message.Body.Span) as System.Text.Json.Nodes.JsonObject
            ?? throw new InvalidOperationException("Only a JSON object can be sent to an input queue through the in-memory transport.");

        // A message this transport sent before (a dead letter being replayed) was kept in MassTransit's envelope: its
        // message is what goes back, not the envelope.
        if (message.ContentType?.Contains("vnd.masstransit", StringComparison.OrdinalIgnoreCase) == true
            && body["message"] is System.Text.Json.Nodes.JsonObject inner)
        {
            body = inner.DeepClone().AsObject();
        }
        if (message.MessageId is { Length: > 0 } id && !body.Any(property => string.Equals(property.Key, "idempotencyKey", StringComparison.OrdinalIgnoreCase) && property.Value is not null))
        {
            body["idempotencyKey"] = id;
        }

        var typed = System.Text.Json.JsonSerializer.Deserialize(body, contract, MassTransit.Serialization.SystemTextJsonMessageSerializer.Options)
            ?? throw new InvalidOperationException("The body is JSON null.");
        var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{message.Queue}"));
        await endpoint.Send(typed, contract, new SendHeaders(message), cancellationToken);
    }

    private sealed class SendHeaders(OutgoingMessage message) : IPipe<SendContext>
    {
        public Task Send(SendContext context)
        {
            if (Guid.TryParse(message.CorrelationId, out var correlation))
            {
                context.CorrelationId = correlation;
            }

            foreach (var (name, value) in message.Headers)
            {
                if (value is not null)
                {
                    context.Headers.Set(name, value);
                }
            }

            return Task.CompletedTask;
        }

        public void Probe(ProbeContext context)
        {
        }
    }
}
