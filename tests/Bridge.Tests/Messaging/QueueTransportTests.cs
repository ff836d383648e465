using System.Text;
using Bridge.Host.Messaging;
using Bridge.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Bridge.Tests.Messaging;

/// <summary>
/// The transport of the HTTP door and of operator replays, against the real broker: publishes in flight at once each have a
/// channel of their own, a failed publish costs only its channel, and every message arrives once, byte for byte.
/// </summary>
public sealed class QueueTransportTests : IAsyncLifetime
{
    private readonly string _queue = $"bridge-transport-{Guid.NewGuid():N}";
    private IConnection _connection = null!;
    private IChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _connection = await new ConnectionFactory { Uri = TestEnvironment.RabbitMqUri }.CreateConnectionAsync();
        _channel = await _connection.CreateChannelAsync();
        await _channel.QueueDeclareAsync(_queue, durable: false, exclusive: false, autoDelete: false);
    }

    public async Task DisposeAsync()
    {
        await _channel.QueueDeleteAsync(_queue);
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }

    [Fact]
    public async Task Sends_made_at_once_all_arrive_once_with_their_ids_and_bodies_on_at_most_MaxChannels_channels()
    {
        await using var transport = Transport();
        const int count = 40;

        await Task.WhenAll(Enumerable.Range(0, count).Select(i => transport.SendAsync(Message(_queue, i), CancellationToken.None)));

        var received = await DrainAsync(count);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"m-{i}").Order(), received.Keys.Order());
        Assert.All(received, pair => Assert.Equal($"{{\"n\":{pair.Key[2..]}}}", pair.Value));
        Assert.InRange(transport.ChannelsOpened, 1, RabbitMqQueueTransport.MaxChannels);
    }

    [Fact]
    public async Task An_unroutable_send_fails_alone_and_the_next_sends_go_through()
    {
        await using var transport = Transport();
        await transport.SendAsync(Message(_queue, 1), CancellationToken.None);

        await Assert.ThrowsAnyAsync<Exception>(() => transport.SendAsync(Message($"bridge-no-such-queue-{Guid.NewGuid():N}", 2), CancellationToken.None));
        await Task.WhenAll(Enumerable.Range(3, 5).Select(i => transport.SendAsync(Message(_queue, i), CancellationToken.None)));

        var received = await DrainAsync(6);
        Assert.Equal(["m-1", "m-3", "m-4", "m-5", "m-6", "m-7"], received.Keys.Order());
    }

    [Fact]
    public async Task A_send_with_no_broker_to_reach_says_nothing_was_sent_and_one_the_broker_refused_does_not()
    {
        // A loopback port nothing listens on: the connection is refused before anything could be published.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var nowhere = new RabbitMqQueueTransport(Options.Create(new MessagingOptions { RabbitMqUri = new Uri($"amqp://guest:guest@127.0.0.1:{port}/") }));
        await using var transport = Transport();

        var unreachable = await Assert.ThrowsAsync<MessageNotSentException>(() => nowhere.SendAsync(Message(_queue, 1), CancellationToken.None));
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => transport.SendAsync(Message($"bridge-no-such-queue-{Guid.NewGuid():N}", 2), CancellationToken.None));

        Assert.IsNotType<MessageNotSentException>(refused);
        Assert.DoesNotContain(port.ToString(System.Globalization.CultureInfo.InvariantCulture), unreachable.Message, StringComparison.Ordinal);
    }

    private static RabbitMqQueueTransport Transport() =>
        new(Options.Create(new MessagingOptions { RabbitMqUri = TestEnvironment.RabbitMqUri }));

    private static OutgoingMessage Message(string queue, int n) => new(
        queue,
        Encoding.UTF8.GetBytes($"{{\"n\":{n}}}"),
        $"m-{n}",
        null,
        "application/json",
        new Dictionary<string, string?>(),
        new Dictionary<string, string?>());

    /// <summary>Reads exactly <paramref name="expected"/> messages (confirmed, so already queued), then checks none is left.</summary>
    private async Task<Dictionary<string, string>> DrainAsync(int expected)
    {
        var received = new Dictionary<string, string>();
        for (var i = 0; i < expected; i++)
        {
            var message = await _channel.BasicGetAsync(_queue, autoAck: true);
            Assert.NotNull(message);
            Assert.True(received.TryAdd(message.BasicProperties.MessageId!, Encoding.UTF8.GetString(message.Body.Span)), $"{message.BasicProperties.MessageId} arrived twice");
        }

        Assert.Null(await _channel.BasicGetAsync(_queue, autoAck: true));
        return received;
    }
}
