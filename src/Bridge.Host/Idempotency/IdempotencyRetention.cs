using Bridge.Host.Hosting;
using Bridge.Host.Storage;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Idempotency;

/// <summary>Deletes completed idempotency records once they are older than the retention period.</summary>
internal sealed partial class IdempotencyRetention(
    IIdempotencyStore records,
    IOptions<IdempotencyOptions> options,
    TimeProvider clock,
    ILogger<IdempotencyRetention> logger) : PeriodicMaintenance(clock, logger)
{
    protected override TimeSpan Tick => TimeSpan.FromHours(1);

    /// <summary>Every tick purges.</summary>
    protected override TimeSpan PurgeEvery => TimeSpan.Zero;

    protected override string What => "Idempotency-record";

    protected override async Task PurgeOnceAsync(CancellationToken cancellationToken)
    {
        var purged = await records.PurgeAsync(Clock.GetUtcNow() - options.Value.RetainRecordsFor, cancellationToken);
        LogPurged(logger, purged);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Purged {Count} idempotency records past retention")]
    private static partial void LogPurged(ILogger logger, int count);
}
