using System.Text;
using System.Text.Json;
using RabbitMQ.Client;

namespace Bridge.Tests.Pipeline;

/// <summary>Publishes to Bridge's input queues the way a non-.NET ERP (1C) does: plain JSON over AMQP with a message_id.</summary>
public sealed class ErpPublisher : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private ErpPublisher(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public static async Task<ErpPublisher> ConnectAsync(Uri broker)
    {
        var connection = await new ConnectionFactory { Uri = broker, ClientProvidedName = "bridge-tests-erp" }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        return new ErpPublisher(connection, channel);
    }

    public Task PublishJsonAsync(string queue, object message, string? messageId)
        => PublishRawAsync(queue, JsonSerializer.SerializeToUtf8Bytes(message, Json), messageId);

    public async Task PublishRawAsync(string queue, byte[] body, string? messageId, string? contentType = "application/json", IDictionary<string, object?>? headers = null)
    {
        var properties = new BasicProperties { ContentType = contentType, MessageId = messageId, Persistent = true, Headers = headers };
        await _gate.WaitAsync();
        try
        {
            await _channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, body);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<uint> MessageCountAsync(string queue)
    {
        await using var channel = await _connection.CreateChannelAsync();
        var declared = await channel.QueueDeclarePassiveAsync(queue);
        return declared.MessageCount;
    }

    /// <summary>Takes one message off a queue (e.g. an error queue), or null when it is empty.</summary>
    public async Task<BasicGetResult?> GetAsync(string queue)
    {
        await using var channel = await _connection.CreateChannelAsync();
        try
        {
            return await channel.BasicGetAsync(queue, autoAck: true);
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            // The queue does not exist yet (MassTransit declares an error queue on the first error).
            return null;
        }
    }

    public static string Utf8(ReadOnlyMemory<byte> body) => Encoding.UTF8.GetString(body.Span);

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
        _gate.Dispose();
    }
}
