using Bridge.Host.DeadLetters.Replay;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Hosting;
using Microsoft.Extensions.Options;

namespace Bridge.Host.DeadLetters.Retention;

/// <summary>
/// Gives letters from before storage version 16 their key and purges dead letters past retention (at start, then hourly),
/// makes those a crashed replay left Replaying past its lease Pending again,
/// and keeps the dead-letter count gauge current (every minute).
/// </summary>
public sealed partial class DeadLetterMaintenance(
    IDeadLetterStore store,
    IReplayJobStore jobs,
    DeadLetterKeyBackfill keys,
    DeadLetterMetrics metrics,
    IOptions<DeadLetterOptions> options,
    TimeProvider clock,
    ILogger<DeadLetterMaintenance> logger) : PeriodicMaintenance(clock, logger)
{
    protected override string What => "Dead-letter";

    /// <summary>Deletes dead letters (and finished replay jobs) older than <see cref="DeadLetterOptions.RetainFor"/>; returns how many dead letters.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        // First every letter holds its key: a purge keeps a letter that holds one an edit replaced or an operator discarded.
        await keys.RunAsync(cancellationToken);
        var olderThan = Clock.GetUtcNow() - options.Value.RetainFor;
        await jobs.PurgeAsync(olderThan, cancellationToken);
        var purged = await store.PurgeAsync(olderThan, cancellationToken);
        if (purged > 0)
        {
            LogPurged(logger, purged, options.Value.RetainFor);
        }

        return purged;
    }

    public async Task RefreshCountsAsync(CancellationToken cancellationToken) =>
        metrics.SetCounts(await store.CountByStatusAsync(cancellationToken));

    /// <summary>Every dead letter whose replay died unrecorded and whose lease has ended (by the database's clock) is Pending again; returns how many.</summary>
    public async Task<int> ReleaseExpiredReplaysAsync(CancellationToken cancellationToken)
    {
        var released = 0;
        int batch;
        do
        {
            batch = (await store.ReleaseExpiredReplaysAsync(null, cancellationToken)).Count;
            released += batch;
        }
        while (batch >= 500);

        if (released > 0)
        {
            LogReleased(logger, released);
        }

        return released;
    }

    protected override Task PurgeOnceAsync(CancellationToken cancellationToken) => PurgeAsync(cancellationToken);

    protected override async Task EveryTickAsync(CancellationToken cancellationToken)
    {
        await ReleaseExpiredReplaysAsync(cancellationToken);
        await jobs.InterruptExpiredAsync(cancellationToken);
        await RefreshCountsAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} dead letters older than {RetainFor}")]
    private static partial void LogPurged(ILogger logger, int count, TimeSpan retainFor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} dead letters whose replay was not recorded within its lease are Pending again (a replay may have sent them; sending again is a duplicate their idempotency records absorb)")]
    private static partial void LogReleased(ILogger logger, int count);
}
