using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Bridge.Host.DeadLetters.Capture;

/// <summary>The input queues whose failures become dead letters, with the contract each carries; filled as the bus configures them.</summary>
public sealed class DeadLetterInputQueues
{
    private readonly ConcurrentDictionary<string, string> queues = new(StringComparer.Ordinal);

    public void Add(string queue, string messageType) => queues[queue] = messageType;

    /// <summary>Queue name → message type, in a stable order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> All => [.. queues.OrderBy(pair => pair.Key, StringComparer.Ordinal)];
}

/// <summary>
/// Brings back what capture could not store: when the database was down, a failed message went to its queue's
/// <c>_error</c> queue (with MassTransit's <c>MT-Fault-*</c> headers). Once the database is reachable this takes each
/// such message (basic.get, manual ack), stores it as the same dead letter capture would have (with its
/// <see cref="Bridge.Contracts.ErpMessageDeadLettered"/> event, in one transaction) and only then acknowledges it. A crash
/// in between leaves it on the error queue; importing it again lands on the same dead letter (per queue + message id and
/// body). One message the store refuses never stops the sweep: it is parked on <c>&lt;queue&gt;_parked</c> (logged with
/// why, counted in <c>bridge.dead_letters.error_queue_parked</c>) and the messages behind it are imported.
/// </summary>
public sealed partial class ErrorQueueSweeper(
    DeadLetterCapture capture,
    DeadLetterInputQueues inputQueues,
    DeadLetterMetrics metrics,
    IOptions<DeadLetterOptions> options,
    IOptions<MessagingOptions> messaging,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<ErrorQueueSweeper> logger) : BackgroundService
{
    /// <summary>Where a message goes that the store refuses while it takes others: <c>&lt;queue&gt;_parked</c>.</summary>
    public const string ParkingQueueSuffix = "_parked";

    /// <summary>On a parked message: the exception that kept it out of the store (type and message).</summary>
    public const string ParkedReasonHeader = "Bridge-Parked-Reason";

    /// <summary>On a parked message: the error queue it was taken from.</summary>
    public const string ParkedFromHeader = "Bridge-Parked-From";

    /// <summary>On a parked message: when it was parked (ISO 8601, UTC).</summary>
    public const string ParkedAtHeader = "Bridge-Parked-At";

    /// <summary>Headers MassTransit adds when it moves a message to the error queue; their content is kept as the dead letter's failure.</summary>
    private const string FaultHeaderPrefix = "MT-Fault-";

    private const string ReasonHeader = "MT-Reason";

    private readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>
    /// One pass over every input queue's error queue, at most <see cref="DeadLetterOptions.ErrorQueueSweepBatchSize"/>
    /// messages; stops early (leaving the message on its queue) when the database cannot store any, and parks (and goes on
    /// past) a message the database refuses while it takes others. Returns how many were imported.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await SweepOnceAsync(cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The queue list is filled while the bus configures its endpoints: start once the whole host is up.
        await WhenStartedAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.ErrorQueueSweepInterval, clock);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private Task WhenStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        return started.Task.WaitAsync(stoppingToken);
    }

    private async Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var queues = inputQueues.All;
        if (queues.Count == 0)
        {
            return 0;
        }

        var uri = messaging.Value.RabbitMqUri ?? throw new InvalidOperationException($"{MessagingOptions.Section}:RabbitMqUri is not set.");
        await using var connection = await new ConnectionFactory { Uri = uri, ClientProvidedName = "bridge-dead-letter-sweep" }.CreateConnectionAsync(cancellationToken);
        // Confirmed publishes: a message is acknowledged on its error queue only once its parking queue has it.
        var channelOptions = new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);
        var channel = await connection.CreateChannelAsync(channelOptions, cancellationToken);
        var imported = 0;
        var budget = options.Value.ErrorQueueSweepBatchSize;
        try
        {
            foreach (var (queue, messageType) in queues)
            {
                var errorQueue = queue + InputQueues.ErrorQueueSuffix;
                while (budget > 0)
                {
                    BasicGetResult? message;
                    try
                    {
                        message = await channel.BasicGetAsync(errorQueue, autoAck: false, cancellationToken);
                    }
                    catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
                    {
                        // MassTransit declares an error queue on its first use: none yet means nothing to import.
                        // The refusal closed the channel; the next queue gets a fresh one.
                        await channel.DisposeAsync();
                        channel = await connection.CreateChannelAsync(channelOptions, cancellationToken);
                        break;
                    }

                    if (message is null)
                    {
                        break;
                    }

                    budget--;
                    switch (await ImportAsync(channel, queue, messageType, message, cancellationToken))
                    {
                        case ImportResult.Imported:
                            imported++;
                            break;
                        case ImportResult.StoreUnavailable:
                            return imported;
                    }
                }
            }
        }
        finally
        {
            await channel.DisposeAsync();
        }

        return imported;
    }

    private enum ImportResult
    {
        Imported,
        Parked,
        StoreUnavailable,
    }

    /// <summary>
    /// Stores one error-queue message as a dead letter and acknowledges it. When that fails, a probe (a dead letter like any
    /// other, written and rolled back) tells whether the store is unavailable — then the message goes back and the sweep
    /// stops until the next pass — or refuses this one message: then, after one more try, it is parked, so the messages
    /// behind it are not held up by it forever.
    /// </summary>
    private async Task<ImportResult> ImportAsync(IChannel channel, string queue, string messageType, BasicGetResult message, CancellationToken cancellationToken)
    {
        var errorQueue = queue + InputQueues.ErrorQueueSuffix;
        NewDeadLetter letter;
        try
        {
            letter = Describe(queue, messageType, message.BasicProperties, message.Body, clock.GetUtcNow());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return await ParkAsync(channel, queue, message, ex, cancellationToken);
        }

        Exception failure;
        try
        {
            await StoreAsync(channel, queue, errorQueue, letter, message, cancellationToken);
            return ImportResult.Imported;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            failure = ex;
        }

        if (!await capture.CanStoreAsync(queue, messageType, cancellationToken))
        {
            // Back to the error queue for the next pass: the database cannot take any dead letter right now.
            await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
            LogImportFailed(logger, errorQueue, letter.MessageId, failure);
            return ImportResult.StoreUnavailable;
        }

        try
        {
            await StoreAsync(channel, queue, errorQueue, letter, message, cancellationToken);
            return ImportResult.Imported;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return await ParkAsync(channel, queue, message, ex, cancellationToken);
        }
    }

    private async Task StoreAsync(IChannel channel, string queue, string errorQueue, NewDeadLetter letter, BasicGetResult message, CancellationToken cancellationToken)
    {
        var captured = await capture.CaptureAsync(
            letter,
            new DeadLetterAction("bridge", "ImportedFromErrorQueue", "Pending", $"from {errorQueue}"),
            cancellationToken);
        await channel.BasicAckAsync(message.DeliveryTag, multiple: false, CancellationToken.None);
        metrics.ImportedFromErrorQueue(queue);
        LogImported(logger, letter.MessageId, errorQueue, captured.Id);
    }

    /// <summary>
    /// Moves a message the store refuses to <c>&lt;queue&gt;_parked</c>, exactly as it was (body, properties, headers) plus
    /// why (<see cref="ParkedReasonHeader"/>, <see cref="ParkedFromHeader"/>, <see cref="ParkedAtHeader"/>); acknowledged on
    /// the error queue only once the parking queue confirmed it. When even that fails it goes back and the sweep stops.
    /// </summary>
    private async Task<ImportResult> ParkAsync(IChannel channel, string queue, BasicGetResult message, Exception reason, CancellationToken cancellationToken)
    {
        var errorQueue = queue + InputQueues.ErrorQueueSuffix;
        var parkingQueue = queue + ParkingQueueSuffix;
        var why = StorableText.Clip($"{reason.GetType().FullName}: {reason.Message}", 2000);
        try
        {
            await channel.QueueDeclareAsync(parkingQueue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
            var properties = new BasicProperties(message.BasicProperties) { Persistent = true };
            var headers = properties.Headers is { } existing ? new Dictionary<string, object?>(existing) : [];
            headers[ParkedReasonHeader] = why;
            headers[ParkedFromHeader] = errorQueue;
            headers[ParkedAtHeader] = clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
            properties.Headers = headers;
            await channel.BasicPublishAsync(string.Empty, parkingQueue, mandatory: true, properties, message.Body, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
            LogParkFailed(logger, message.BasicProperties.MessageId, errorQueue, parkingQueue, ex);
            return ImportResult.StoreUnavailable;
        }

        await channel.BasicAckAsync(message.DeliveryTag, multiple: false, CancellationToken.None);
        metrics.ParkedFromErrorQueue(queue);
        LogParked(logger, message.BasicProperties.MessageId, errorQueue, parkingQueue, why, reason);
        return ImportResult.Parked;
    }

    /// <summary>The dead letter capture would have stored for this message, its failure read from MassTransit's fault headers.</summary>
    public static NewDeadLetter Describe(string inputQueue, string messageType, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var read = DeadLetterBody.FromBytes(body.Span);
        var all = new Dictionary<string, string?>(StringComparer.Ordinal);
        var (messageId, correlationId, contentType) = DeadLetterCapture.ReadAmqp(properties, all);
        var identity = DeadLetterCapture.ReadBody(read);
        messageId ??= identity.EnvelopeMessageId;
        correlationId ??= identity.EnvelopeCorrelationId;

        // Kept out of the headers a replay sends back: they describe the old failure, which the dead letter records itself.
        var headers = all
            .Where(header => !header.Key.StartsWith(FaultHeaderPrefix, StringComparison.OrdinalIgnoreCase)
                             && !string.Equals(header.Key, ReasonHeader, StringComparison.OrdinalIgnoreCase))
            .ToDictionary(StringComparer.Ordinal);
        var retries = int.TryParse(all.GetValueOrDefault(MessageHeaders.FaultRetryCount), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) ? count : 0;
        return new NewDeadLetter(
            NewId.NextGuid(),
            inputQueue,
            messageType,
            messageId,
            identity.Key,
            correlationId,
            contentType,
            read,
            headers,
            NonEmpty(all.GetValueOrDefault(MessageHeaders.FaultExceptionType)) ?? "Unknown",
            NonEmpty(all.GetValueOrDefault(MessageHeaders.FaultMessage)) ?? $"Moved to {inputQueue}{InputQueues.ErrorQueueSuffix} without a fault message",
            NonEmpty(all.GetValueOrDefault(MessageHeaders.FaultStackTrace)),
            retries + 1,
            FaultTime(properties) ?? now);
    }

    /// <summary>MT-Fault-Timestamp: an AMQP timestamp, a number of Unix seconds, or text; null when absent or unreadable.</summary>
    private static DateTimeOffset? FaultTime(IReadOnlyBasicProperties properties)
    {
        if (!properties.IsHeadersPresent() || properties.Headers is not { } table
            || !table.TryGetValue(MessageHeaders.FaultTimestamp, out var value) || value is null)
        {
            return null;
        }

        return value switch
        {
            AmqpTimestamp timestamp => DateTimeOffset.FromUnixTimeSeconds(timestamp.UnixTime),
            long seconds => DateTimeOffset.FromUnixTimeSeconds(seconds),
            byte[] text when DateTimeOffset.TryParse(
                Encoding.UTF8.GetString(text), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed) => parsed,
            string text when DateTimeOffset.TryParse(
                text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed) => parsed,
            _ => null,
        };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    public override void Dispose()
    {
        gate.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Imported message {MessageId} from {ErrorQueue} as dead letter {DeadLetterId}")]
    private static partial void LogImported(ILogger logger, string? messageId, string errorQueue, Guid deadLetterId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not store message {MessageId} from {ErrorQueue} as a dead letter; it stays there for the next sweep")]
    private static partial void LogImportFailed(ILogger logger, string errorQueue, string? messageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} from {ErrorQueue} is parked on {ParkingQueue}: the dead-letter store refuses it while it takes others ({Reason}); the sweep goes on with the messages behind it")]
    private static partial void LogParked(ILogger logger, string? messageId, string errorQueue, string parkingQueue, string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not park message {MessageId} from {ErrorQueue} on {ParkingQueue}; it stays on the error queue for the next sweep")]
    private static partial void LogParkFailed(ILogger logger, string? messageId, string errorQueue, string parkingQueue, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping the error queues into the dead-letter store failed; will try again")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
