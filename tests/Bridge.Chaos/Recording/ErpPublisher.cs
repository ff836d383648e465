using Bridge.Chaos.Model;
using RabbitMQ.Client;

namespace Bridge.Chaos.Recording;

/// <summary>
/// Publishes to Bridge's input queues as a 1C ERP does: plain JSON over AMQP (default exchange, routing key = queue), with
/// its <c>message_id</c>, persistent, with publisher confirms. A publish that fails (the broker is restarting) is retried
/// until confirmed, as an ERP's outbound queue would; each attempt is recorded, since an unconfirmed one may have arrived.
/// </summary>
public sealed class ErpPublisher : IAsyncDisposable
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(3);

    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly string _queuePrefix;
    private readonly History _history;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private ErpPublisher(IConnection connection, IChannel channel, string queuePrefix, History history)
    {
        _connection = connection;
        _channel = channel;
        _queuePrefix = queuePrefix;
        _history = history;
    }

    public static async Task<ErpPublisher> ConnectAsync(Uri broker, string queuePrefix, History history, CancellationToken ct)
    {
        var connection = await Broker.ConnectAsync(broker, "bridge-chaos-erp", ct);
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        return new ErpPublisher(connection, channel, queuePrefix, history);
    }

    public string QueueName(string queue) => $"{_queuePrefix}.{queue}";

    public async Task PublishAsync(Publication publication, CancellationToken ct)
    {
        var message = publication.Message;
        var properties = new BasicProperties { ContentType = message.ContentType, MessageId = message.AmqpMessageId, Persistent = true };
        var giveUp = DateTimeOffset.UtcNow + GiveUpAfter;
        while (true)
        {
            await _gate.WaitAsync(ct);
            try
            {
                await _channel.BasicPublishAsync(string.Empty, QueueName(message.Queue), mandatory: false, properties, message.Body, ct);
                _history.Published(new PublicationRecord(message, publication.Copy, DateTimeOffset.UtcNow, Confirmed: true, null));
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && DateTimeOffset.UtcNow < giveUp)
            {
                _history.Published(new PublicationRecord(message, publication.Copy, DateTimeOffset.UtcNow, Confirmed: false, ex.GetType().Name + ": " + ex.Message));
            }
            finally
            {
                _gate.Release();
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
    }

    /// <summary>Messages ready on a queue (not counting those delivered and not yet acknowledged); null when it does not exist.</summary>
    public async Task<uint?> ReadyCountAsync(string queueName, CancellationToken ct)
    {
        try
        {
            await using var channel = await _connection.CreateChannelAsync(cancellationToken: ct);
            return (await channel.QueueDeclarePassiveAsync(queueName, ct)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
        _gate.Dispose();
    }
}
