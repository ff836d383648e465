using System.Collections.Concurrent;
using System.Text.Json;
using Bridge.Contracts;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Bridge.Benchmarks;

/// <summary>One result event as the subscriber received it.</summary>
public sealed record ReceivedEvent(string MessageId, string Type, DateTimeOffset OccurredAt, DateTimeOffset ReceivedAt);

/// <summary>
/// A finance workflow's subscriber: its own queue bound to every <c>Bridge.Contracts:{Event}</c> exchange (every
/// <see cref="IResultEvent"/> the contracts define: each flow's success, skip and rejection events and
/// <c>ErpMessageDeadLettered</c>, so any answer the mix of flows can get is seen); records the type,
/// the idempotency key it answers (<c>message.messageId</c>), its <c>occurredAt</c> and when it arrived, and signals once
/// every expected message has its answer. The first answer per message counts (a rare duplicate publish is dropped).
/// </summary>
public sealed class ResultCapture : IAsyncDisposable
{
    private static readonly string[] EventTypes = [.. typeof(IResultEvent).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IResultEvent).IsAssignableFrom(t))
        .Select(t => $"{t.Namespace}:{t.Name}")];

    private readonly IChannel _channel;
    private readonly ConcurrentDictionary<string, ReceivedEvent> _events = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<string> _expected;
    private int _answered;
    private long _unreadable;

    private ResultCapture(IChannel channel, IEnumerable<string> expected)
    {
        _channel = channel;
        _expected = new HashSet<string>(expected, StringComparer.Ordinal);
    }

    public IReadOnlyCollection<ReceivedEvent> Events => [.. _events.Values];

    /// <summary>How many of the expected messages have an answer (events of other runs on the shared exchanges are not counted).</summary>
    public int Count => Volatile.Read(ref _answered);

    public long Unreadable => Interlocked.Read(ref _unreadable);

    /// <summary>Completes when every expected message has an answer.</summary>
    public Task AllReceived => _all.Task;

    public static async Task<ResultCapture> StartAsync(IConnection connection, string queue, IEnumerable<string> expected, CancellationToken ct)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: true, autoDelete: true, cancellationToken: ct);
        foreach (var exchange in EventTypes)
        {
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: ct);
            await channel.QueueBindAsync(queue, exchange, string.Empty, cancellationToken: ct);
        }

        await channel.BasicQosAsync(0, 500, false, ct);
        var capture = new ResultCapture(channel, expected);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += capture.OnDeliveryAsync;
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer, ct);
        return capture;
    }

    private async Task OnDeliveryAsync(object sender, BasicDeliverEventArgs delivery)
    {
        var received = DateTimeOffset.UtcNow;
        try
        {
            using var document = JsonDocument.Parse(delivery.Body);
            var root = document.RootElement;
            var type = root.GetProperty("messageType").EnumerateArray().Select(u => u.GetString() ?? "").FirstOrDefault(u => u.StartsWith("urn:message:Bridge.Contracts:", StringComparison.Ordinal));
            var message = root.GetProperty("message");
            var messageId = message.GetProperty("messageId").GetString();
            var occurredAt = message.GetProperty("occurredAt").GetDateTimeOffset();
            if (type is null || messageId is null)
            {
                Interlocked.Increment(ref _unreadable);
            }
            else
            {
                // The event exchanges are shared by every scenario of a run: only this scenario's messages count.
                if (_expected.Contains(messageId)
                    && _events.TryAdd(messageId, new ReceivedEvent(messageId, type["urn:message:Bridge.Contracts:".Length..], occurredAt, received))
                    && Interlocked.Increment(ref _answered) >= _expected.Count)
                {
                    _all.TrySetResult();
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            Interlocked.Increment(ref _unreadable);
        }

        await _channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
    }

    public async ValueTask DisposeAsync() => await _channel.DisposeAsync();
}
