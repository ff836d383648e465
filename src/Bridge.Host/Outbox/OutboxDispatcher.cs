using Bridge.Host.Storage;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Outbox;

/// <summary>
/// Publishes result events from the outbox to the broker. Several Bridge instances may run it at once: each claims its rows
/// with the database's skip-locked form, and a claim expires after a lease so a crashed instance's rows are picked up.
/// </summary>
public sealed partial class OutboxDispatcher(
    IOutboxStore outbox,
    IBus bus,
    OutboxSignal signal,
    IOptions<OutboxOptions> options,
    TimeProvider clock,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private DateTimeOffset _nextPurge = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Another full batch right away only while everything publishes: after a failure the next pass waits for
                // the poll interval, so a broker refusing publishes is not hammered in a tight loop.
                BatchResult result;
                do
                {
                    result = await DispatchBatchAsync(settings, stoppingToken);
                }
                while (result.Claimed == settings.BatchSize && result.Failed == 0 && !stoppingToken.IsCancellationRequested);

                await PurgeWhenDueAsync(settings, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPassFailed(logger, ex);
            }

            await signal.WaitAsync(settings.PollInterval, stoppingToken);
        }
    }

    public readonly record struct BatchResult(int Claimed, int Failed);

    /// <summary>Claims and publishes one batch.</summary>
    public async Task<BatchResult> DispatchBatchAsync(OutboxOptions settings, CancellationToken cancellationToken)
    {
        var batch = await outbox.ClaimAsync(_owner, settings.BatchSize, settings.ClaimLease, cancellationToken);
        var failed = 0;
        foreach (var message in batch)
        {
            try
            {
                var contract = ResultEvents.Deserialize(message);
                var headers = ResultEvents.Headers(message);
                await bus.Publish(contract, contract.GetType(), Pipe.Execute<PublishContext>(context =>
                {
                    // The outbox id is the event's message id, so subscribers can drop a duplicate publish.
                    context.MessageId = message.Id;
                    if (Guid.TryParse(headers.GetValueOrDefault("correlationId"), out var correlationId))
                    {
                        context.CorrelationId = correlationId;
                    }

                    foreach (var (name, value) in headers)
                    {
                        if (value is not null)
                        {
                            context.Headers.Set($"bridge-{name}", value);
                        }
                    }
                }), cancellationToken);
                // Published: record it even when shutting down, or the event is published again after the lease.
                await outbox.MarkDispatchedAsync(message.Id, _owner, CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failed++;
                LogPublishFailed(logger, message.Id, message.MessageType, ex);
                await outbox.MarkFailedAsync(message.Id, _owner, ex.GetType().Name + ": " + ex.Message, CancellationToken.None);
            }
        }

        return new BatchResult(batch.Count, failed);
    }

    private async Task PurgeWhenDueAsync(OutboxOptions settings, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (now < _nextPurge)
        {
            return;
        }

        _nextPurge = now.AddMinutes(10);
        await outbox.PurgeDispatchedAsync(now - settings.RetainDispatchedFor, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox dispatch pass failed; retrying after the poll interval")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing outbox message {OutboxId} ({MessageType}) failed; it stays in the outbox")]
    private static partial void LogPublishFailed(ILogger logger, Guid outboxId, string messageType, Exception exception);
}
