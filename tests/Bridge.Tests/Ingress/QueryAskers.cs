using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Bridge.Tests.Infrastructure;
using MassTransit;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Bridge.Tests.Ingress;

/// <summary>A .NET ERP's own bus, as an ERP team would start one to ask Bridge with MassTransit's request client.</summary>
public sealed class ErpBus : IAsyncLifetime
{
    public IBusControl Bus { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(TestEnvironment.RabbitMqUri));
        await Bus.StartAsync();
    }

    public async Task DisposeAsync() => await Bus.StopAsync();
}

/// <summary>What a plain AMQP client received on its reply queue.</summary>
public sealed record PlainAnswer(string? CorrelationId, string? Type, string? ContentType, JsonObject Body);

/// <summary>
/// An ERP without MassTransit (RabbitMQ's own client, nothing of Bridge's): publishes a query as plain JSON with
/// <c>reply_to</c> and <c>correlation_id</c> and reads the answer from its own exclusive, server-named queue — or, with
/// <c>directReplyTo</c>, from RabbitMQ's direct reply-to pseudo-queue.
/// </summary>
public sealed class PlainQueryClient : IAsyncDisposable
{
    private readonly IConnection connection;
    private readonly IChannel channel;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<PlainAnswer>> waiting = new(StringComparer.Ordinal);

    private PlainQueryClient(IConnection connection, IChannel channel, string replyTo)
    {
        this.connection = connection;
        this.channel = channel;
        ReplyTo = replyTo;
    }

    public string ReplyTo { get; }

    /// <summary>Every answer received, in order, including any that nobody waited for.</summary>
    public ConcurrentQueue<PlainAnswer> Received { get; } = new();

    public static async Task<PlainQueryClient> ConnectAsync(Uri broker, bool directReplyTo = false)
    {
        var connection = await new ConnectionFactory { Uri = broker, ClientProvidedName = "bridge-tests-plain-erp" }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        var replyTo = directReplyTo ? "amq.rabbitmq.reply-to" : (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
        var client = new PlainQueryClient(connection, channel, replyTo);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            var answer = new PlainAnswer(
                delivery.BasicProperties.CorrelationId,
                delivery.BasicProperties.Type,
                delivery.BasicProperties.ContentType,
                JsonNode.Parse(delivery.Body.Span)!.AsObject());
            client.Received.Enqueue(answer);
            if (answer.CorrelationId is { } id && client.waiting.TryRemove(id, out var waiter))
            {
                waiter.TrySetResult(answer);
            }

            return Task.CompletedTask;
        };

        // Direct reply-to needs the consumer, in no-ack mode, before the publish on the same channel.
        await channel.BasicConsumeAsync(replyTo, autoAck: true, consumer);
        return client;
    }

    /// <summary>Publishes <paramref name="body"/> to <paramref name="queue"/> and waits for the answer carrying <paramref name="correlationId"/>.</summary>
    public async Task<PlainAnswer> AskAsync(string queue, string body, string correlationId, TimeSpan? timeout = null)
    {
        var answer = new TaskCompletionSource<PlainAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(waiting.TryAdd(correlationId, answer));
        await PublishAsync(queue, Encoding.UTF8.GetBytes(body), correlationId, ReplyTo);
        return await answer.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
    }

    public async Task PublishAsync(string queue, byte[] body, string? correlationId, string? replyTo, string contentType = "application/json")
    {
        var properties = new BasicProperties { ContentType = contentType, CorrelationId = correlationId, ReplyTo = replyTo };
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, body);
    }

    public async ValueTask DisposeAsync()
    {
        await channel.DisposeAsync();
        await connection.DisposeAsync();
    }
}
