using System.Text;
using Npgsql;
using RabbitMQ.Client;
using Xunit;

namespace Bridge.Tests.Infrastructure;

/// <summary>The services <c>./test.sh</c> provides are real and reachable with the settings it exports.</summary>
public sealed class TestEnvironmentTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RabbitMq_round_trips_a_message_through_a_temporary_queue()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var ct = timeout.Token;
        var factory = new ConnectionFactory { Uri = TestEnvironment.RabbitMqUri };

        await using var connection = await factory.CreateConnectionAsync(ct);
        // Confirms make the publish complete only once the broker has enqueued the message, so the
        // single BasicGet below cannot race it.
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            ct);
        var queue = await channel.QueueDeclareAsync(
            queue: string.Empty, durable: false, exclusive: true, autoDelete: true, cancellationToken: ct);
        var body = Encoding.UTF8.GetBytes($"probe {Guid.NewGuid():N}");

        await channel.BasicPublishAsync(exchange: string.Empty, routingKey: queue.QueueName, body: body, cancellationToken: ct);
        var received = await channel.BasicGetAsync(queue.QueueName, autoAck: true, ct);

        Assert.NotNull(received);
        Assert.Equal(body, received.Body.ToArray());
    }

    [Fact]
    public async Task Postgres_accepts_a_connection_and_answers_a_query()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var ct = timeout.Token;

        await using var connection = new NpgsqlConnection(TestEnvironment.PostgresConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        var result = await command.ExecuteScalarAsync(ct);

        Assert.Equal(1, result);
    }
}
