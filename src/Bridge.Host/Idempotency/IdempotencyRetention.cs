using Bridge.Host.Storage;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Idempotency;

/// <summary>Deletes completed idempotency records once they are older than the retention period.</summary>
internal sealed partial class IdempotencyRetention(
    IIdempotencyStore records,
    IOptions<IdempotencyOptions> options,
    TimeProvider clock,
    ILogger<IdempotencyRetention> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
        do
        {
            try
            {
                var purged = await records.PurgeAsync(clock.GetUtcNow() - options.Value.RetainRecordsFor, stoppingToken);
                LogPurged(logger, purged);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Purged {Count} idempotency records past retention")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purging idempotency records failed; will try again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
