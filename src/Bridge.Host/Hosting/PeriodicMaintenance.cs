namespace Bridge.Host.Hosting;

/// <summary>
/// A background duty that runs at start and then on every tick (by <see cref="TimeProvider"/>, so tests move time by
/// hand): a purge no more often than <see cref="PurgeEvery"/>, and a refresh on every tick. A failed pass is logged and the
/// next tick tries again: a database that is down for a while never ends the duty.
/// </summary>
public abstract partial class PeriodicMaintenance(TimeProvider clock, ILogger logger) : BackgroundService
{
    /// <summary>The clock ticks and purge times are measured by.</summary>
    protected TimeProvider Clock { get; } = clock;

    /// <summary>How often <see cref="EveryTickAsync"/> runs.</summary>
    protected virtual TimeSpan Tick => TimeSpan.FromMinutes(1);

    /// <summary>The least time between two purges; a tick before it has passed only refreshes.</summary>
    protected virtual TimeSpan PurgeEvery => TimeSpan.FromHours(1);

    /// <summary>What is maintained, for the log line of a failed pass (e.g. "Dead-letter").</summary>
    protected abstract string What { get; }

    protected abstract Task PurgeOnceAsync(CancellationToken cancellationToken);

    protected virtual Task EveryTickAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextPurge = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(Tick, Clock);
        do
        {
            try
            {
                if (Clock.GetUtcNow() >= nextPurge)
                {
                    await PurgeOnceAsync(stoppingToken);
                    nextPurge = Clock.GetUtcNow() + PurgeEvery;
                }

                await EveryTickAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(logger, What, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{What} maintenance failed; will try again")]
    private static partial void LogFailed(ILogger logger, string what, Exception exception);
}
