using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Bridge.Host.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Bridge.Host.DeadLetters;

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
/// in between leaves it on the error queue; importing it again lands on the same dead letter (per queue + message id).
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
    public const string ErrorQueueSuffix = "_error";

    /// <summary>Headers MassTransit adds when it moves a message to the error queue; their content is kept as the dead letter's failure.</summary>
    private const string FaultHeaderPrefix = "MT-Fault-";

    private const string ReasonHeader = "MT-Reason";

    private readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>
    /// One pass over every input queue's error queue, at most <see cref="DeadLetterOptions.ErrorQueueSweepBatchSize"/>
    /// messages; stops early (leaving the message on its queue) when the database cannot store one. Returns how many were imported.
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
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var imported = 0;
        var budget = options.Value.ErrorQueueSweepBatchSize;
        try
        {
            foreach (var (queue, messageType) in queues)
            {
                var errorQueue = queue + ErrorQueueSuffix;
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
                        channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                        break;
                    }

                    if (message is null)
                    {
                        break;
                    }

                    budget--;
                    DeadLetterCaptured captured;
                    var letter = Describe(queue, messageType, message.BasicProperties, message.Body, clock.GetUtcNow());
                    try
                    {
                        captured = await capture.CaptureAsync(
                            letter,
                            new DeadLetterAction("bridge", "ImportedFromErrorQueue", "Pending", $"from {errorQueue}"),
                            cancellationToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Back to the error queue for the next pass; the database is likely still unavailable.
                        await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
                        LogImportFailed(logger, errorQueue, letter.MessageId, ex);
                        return imported;
                    }

                    await channel.BasicAckAsync(message.DeliveryTag, multiple: false, CancellationToken.None);
                    imported++;
                    metrics.ImportedFromErrorQueue(queue);
                    LogImported(logger, letter.MessageId, errorQueue, captured.Id);
                }
            }
        }
        finally
        {
            await channel.DisposeAsync();
        }

        return imported;
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
            NonEmpty(all.GetValueOrDefault(MessageHeaders.FaultMessage)) ?? $"Moved to {inputQueue}{ErrorQueueSuffix} without a fault message",
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping the error queues into the dead-letter store failed; will try again")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
