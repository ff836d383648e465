using Bridge.Host.Messaging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Bridge.Host.DeadLetters.Replay;

/// <summary>A message to put on a queue exactly as given: body bytes, AMQP properties and headers.</summary>
public sealed record OutgoingMessage(
    string Queue,
    ReadOnlyMemory<byte> Body,
    string? MessageId,
    string? CorrelationId,
    string? ContentType,
    IReadOnlyDictionary<string, string?> Properties,
    IReadOnlyDictionary<string, string?> Headers);

/// <summary>Sends replayed messages straight to their queue, confirmed by the broker before it returns.</summary>
public interface IDeadLetterTransport
{
    Task SendAsync(OutgoingMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// Publishes with RabbitMQ's own client rather than through MassTransit: a replay must carry the original body byte for byte
/// and the original <c>message_id</c>, which may be any string (an ERP's), while MassTransit re-serializes and only knows
/// GUID message ids. Publisher confirms and the mandatory flag make an unroutable or refused message an exception.
/// </summary>
public sealed class RabbitMqDeadLetterTransport(IOptions<MessagingOptions> options) : IDeadLetterTransport, IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private IConnection? connection;
    private IChannel? channel;

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

        await gate.WaitAsync(cancellationToken);
        try
        {
            var open = await OpenChannelAsync(cancellationToken);
            await open.BasicPublishAsync(string.Empty, message.Queue, mandatory: true, properties, message.Body, cancellationToken);
        }
        catch
        {
            // A channel that failed a publish may be closed; the next send opens a fresh one.
            await ResetAsync();
            throw;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<IChannel> OpenChannelAsync(CancellationToken cancellationToken)
    {
        if (channel is { IsOpen: true })
        {
            return channel;
        }

        await ResetAsync();
        var uri = options.Value.RabbitMqUri ?? throw new InvalidOperationException($"{MessagingOptions.Section}:RabbitMqUri is not set.");
        connection = await new ConnectionFactory { Uri = uri, ClientProvidedName = "bridge-dead-letter-replay" }.CreateConnectionAsync(cancellationToken);
        channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        return channel;
    }

    private async Task ResetAsync()
    {
        if (channel is not null)
        {
            await channel.DisposeAsync();
            channel = null;
        }

        if (connection is not null)
        {
            await connection.DisposeAsync();
            connection = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ResetAsync();
        gate.Dispose();
    }
}

/// <summary>The in-memory transport of the demo has no queues a second client could reach: replay is not available there.</summary>
public sealed class UnavailableDeadLetterTransport : IDeadLetterTransport
{
    public Task SendAsync(OutgoingMessage message, CancellationToken cancellationToken) =>
        throw new InvalidOperationException($"Replaying dead letters needs the RabbitMq transport ({MessagingOptions.Section}:Transport).");
}
