using System.Collections.Concurrent;
using System.Text.Json;
using Bridge.Contracts;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// Subscribes to Bridge's result-event exchanges as a finance workflow would (its own queue bound to each
/// <c>Bridge.Contracts:{Event}</c> exchange), and lets a test await the event it expects.
/// </summary>
public sealed class ResultEventListener : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly Type[] EventTypes = typeof(IResultEvent).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IResultEvent).IsAssignableFrom(t))
        .ToArray();

    private readonly ConcurrentQueue<ReceivedEvent> _received = new();
    private readonly List<(Func<ReceivedEvent, bool> Match, TaskCompletionSource<ReceivedEvent> Done)> _waiters = [];
    private readonly Lock _lock = new();
    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private ResultEventListener(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public IReadOnlyCollection<ReceivedEvent> Received => _received.ToArray();

    public static async Task<ResultEventListener> StartAsync(Uri broker)
    {
        var connection = await new ConnectionFactory { Uri = broker, ClientProvidedName = "bridge-tests-finance" }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        var listener = new ResultEventListener(connection, channel);
        var queue = await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true);
        foreach (var type in EventTypes)
        {
            var exchange = $"{type.Namespace}:{type.Name}";
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
            await channel.QueueBindAsync(queue.QueueName, exchange, string.Empty);
        }

        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            listener.OnDelivery(delivery.Body, delivery.BasicProperties.Headers);
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return listener;
    }

    /// <summary>Awaits the first event of type <typeparamref name="T"/> matching <paramref name="match"/> (already received or future).</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool> match, TimeSpan? timeout = null)
        where T : class, IResultEvent
    {
        var received = await WaitForAsync(e => e.Event is T typed && match(typed), timeout ?? TimeSpan.FromSeconds(60), typeof(T).Name);
        return (T)received.Event;
    }

    public Task<T> WaitForAsync<T>(string key, TimeSpan? timeout = null)
        where T : class, IResultEvent
        => WaitForAsync<T>(e => e.Key == key, timeout);

    /// <summary>Awaits the first event of type <typeparamref name="T"/> for <paramref name="key"/>, with its headers.</summary>
    public Task<ReceivedEvent> WaitForReceivedAsync<T>(string key, TimeSpan? timeout = null)
        where T : class, IResultEvent
        => WaitForAsync(e => e.Event is T && e.Event.Key == key, timeout ?? TimeSpan.FromSeconds(60), typeof(T).Name);

    /// <summary>Awaits the first event of type <typeparamref name="T"/> for <paramref name="key"/> answering <paramref name="messageId"/>, with its headers.</summary>
    public Task<ReceivedEvent> WaitForReceivedAsync<T>(string key, string messageId, TimeSpan? timeout = null)
        where T : class, IResultEvent
        => WaitForAsync(e => e.Event is T && e.Event.Key == key && e.Event.MessageId == messageId, timeout ?? TimeSpan.FromSeconds(60), typeof(T).Name);

    public IReadOnlyList<IResultEvent> EventsFor(string key) => _received.Where(e => e.Event.Key == key).Select(e => e.Event).ToList();

    private async Task<ReceivedEvent> WaitForAsync(Func<ReceivedEvent, bool> match, TimeSpan timeout, string description)
    {
        var done = new TaskCompletionSource<ReceivedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            var already = _received.FirstOrDefault(match);
            if (already is not null)
            {
                return already;
            }

            _waiters.Add((match, done));
        }

        try
        {
            return await done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            var seen = string.Join(", ", _received.Select(e => $"{e.Event.GetType().Name}({e.Event.Key})"));
            throw new TimeoutException($"No {description} matching within {timeout.TotalSeconds:0}s. Events seen: [{seen}]");
        }
    }

    private void OnDelivery(ReadOnlyMemory<byte> body, IDictionary<string, object?>? transportHeaders)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var urns = root.GetProperty("messageType").EnumerateArray().Select(u => u.GetString()).ToList();
        var type = EventTypes.FirstOrDefault(t => urns.Contains($"urn:message:{t.Namespace}:{t.Name}"));
        if (type is null)
        {
            return;
        }

        var resultEvent = (IResultEvent)root.GetProperty("message").Deserialize(type, Json)!;
        var headers = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in transportHeaders ?? new Dictionary<string, object?>())
        {
            headers[name] = value is byte[] bytes ? System.Text.Encoding.UTF8.GetString(bytes) : value?.ToString();
        }

        var received = new ReceivedEvent(resultEvent, root.TryGetProperty("messageId", out var id) ? id.GetString() : null, headers);
        lock (_lock)
        {
            _received.Enqueue(received);
            foreach (var waiter in _waiters.Where(w => w.Match(received)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Done.TrySetResult(received);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}

/// <param name="Headers">The AMQP headers the event was published with.</param>
public sealed record ReceivedEvent(IResultEvent Event, string? EnvelopeMessageId, IReadOnlyDictionary<string, string?>? Headers = null);
