using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Bridge.Host.DeadLetters;

/// <summary>A bulk replay: named dead letters, or every Pending one matching a filter.</summary>
/// <param name="BatchSize">Dead letters replayed between two progress updates and cancellation checks.</param>
/// <param name="RatePerSecond">At most this many messages per second go back to the broker.</param>
public sealed record ReplayRequest(IReadOnlyList<Guid>? Ids, DeadLetterFilter? Filter, int? BatchSize, double? RatePerSecond);

[JsonConverter(typeof(JsonStringEnumConverter<ReplayJobState>))]
public enum ReplayJobState
{
    Running,
    Completed,
    Cancelled,
    Failed,
}

/// <summary>Progress of a bulk replay. <c>Skipped</c> counts dead letters that were not Pending (or were being replayed) when reached.</summary>
public sealed record ReplayJobProgress(
    Guid Id,
    ReplayJobState State,
    string RequestedBy,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    int BatchSize,
    double RatePerSecond,
    int Total,
    int Replayed,
    int Skipped,
    int Failed,
    int NotFound,
    string? Error);

/// <summary>
/// Runs bulk replays in the background, one dead letter at a time through <see cref="DeadLetterOperations.ReplayAsync"/>
/// (so each gets the replay guard and its audit entry), paced to the requested rate. The set of dead letters is fixed when
/// the job starts, so a message that fails again during the job is not replayed twice by it. Jobs live in this instance's
/// memory: their progress is lost on restart, while each dead letter's own status and audit trail are not.
/// </summary>
public sealed partial class ReplayJobs(
    DeadLetterOperations operations,
    IDeadLetterStore store,
    IOptions<DeadLetterOptions> options,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<ReplayJobs> logger)
{
    private readonly ConcurrentDictionary<Guid, Job> jobs = new();

    /// <summary>Resolves the dead letters to replay and starts the job; throws <see cref="ArgumentException"/> for a bad request.</summary>
    public async Task<ReplayJobProgress> StartAsync(ReplayRequest request, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var settings = options.Value;
        var batchSize = request.BatchSize ?? settings.DefaultReplayBatchSize;
        var rate = request.RatePerSecond ?? settings.DefaultReplayRatePerSecond;
        if (batchSize is < 1 or > 1000)
        {
            throw new ArgumentException("batchSize must be between 1 and 1000.", nameof(request));
        }

        if (!(rate > 0) || rate > settings.MaxReplayRatePerSecond)
        {
            throw new ArgumentException($"ratePerSecond must be above 0 and at most {settings.MaxReplayRatePerSecond}.", nameof(request));
        }

        if ((request.Ids is null) == (request.Filter is null))
        {
            throw new ArgumentException("Name either ids or a filter.", nameof(request));
        }

        var ids = request.Ids?.Distinct().ToList() ?? await ResolveAsync(request.Filter!, settings.MaxReplayJobSize, cancellationToken);
        if (ids.Count > settings.MaxReplayJobSize)
        {
            throw new ArgumentException($"At most {settings.MaxReplayJobSize} dead letters per replay job.", nameof(request));
        }

        var job = new Job(Guid.NewGuid(), actor, clock.GetUtcNow(), batchSize, rate, ids.Count);
        jobs[job.Id] = job;
        job.Run = Task.Run(() => RunAsync(job, ids), CancellationToken.None);
        LogStarted(logger, job.Id, ids.Count, actor, batchSize, rate);
        return job.Progress();
    }

    public ReplayJobProgress? Get(Guid id) => jobs.TryGetValue(id, out var job) ? job.Progress() : null;

    public ReplayJobProgress? Cancel(Guid id)
    {
        if (!jobs.TryGetValue(id, out var job))
        {
            return null;
        }

        job.Cancellation.Cancel();
        return job.Progress();
    }

    /// <summary>Waits for a job to end (tests and the CLI's --wait); returns its final progress.</summary>
    public async Task<ReplayJobProgress?> WaitAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!jobs.TryGetValue(id, out var job) || job.Run is null)
        {
            return null;
        }

        await job.Run.WaitAsync(cancellationToken);
        return job.Progress();
    }

    private async Task<List<Guid>> ResolveAsync(DeadLetterFilter filter, int max, CancellationToken cancellationToken)
    {
        // Only Pending dead letters are replayable; whatever status the filter names, the job takes the Pending ones —
        // including those a replay that died unrecorded left Replaying past its lease, made Pending again first.
        IReadOnlyList<Guid> released;
        do
        {
            released = await store.ReleaseExpiredReplaysAsync(null, cancellationToken);
        }
        while (released.Count >= 500);

        var pending = filter with { Status = DeadLetterStatus.Pending };
        var ids = new List<Guid>();
        for (var page = 1; ids.Count < max; page++)
        {
            var found = await store.QueryAsync(pending, page, SqlDeadLetterStore.MaxPageSize, cancellationToken);
            ids.AddRange(found.Items.Select(item => item.Id));
            if (found.Items.Count < SqlDeadLetterStore.MaxPageSize)
            {
                break;
            }
        }

        // Oldest first: the order they failed in. Captures arriving while paging shift the pages: no id twice.
        ids.Reverse();
        return ids.Distinct().Take(max).ToList();
    }

    private async Task RunAsync(Job job, IReadOnlyList<Guid> ids)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(job.Cancellation.Token, lifetime.ApplicationStopping);
        var interval = TimeSpan.FromSeconds(1 / job.RatePerSecond);
        var started = clock.GetTimestamp();
        var sent = 0;
        try
        {
            foreach (var batch in ids.Chunk(job.BatchSize))
            {
                stop.Token.ThrowIfCancellationRequested();
                foreach (var id in batch)
                {
                    // Rate limit: message n is not sent before start + n × interval.
                    var due = interval * sent - clock.GetElapsedTime(started);
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, clock, stop.Token);
                    }

                    // One dead letter that cannot be replayed (a passing database error, a purge racing the job) is
                    // counted as failed and stays Pending; it does not end the job for the others.
                    DeadLetterActionOutcome outcome;
                    try
                    {
                        outcome = (await operations.ReplayAsync(id, job.RequestedBy, job.Id.ToString("D"), stop.Token)).Outcome;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogItemFailed(logger, job.Id, id, ex);
                        outcome = DeadLetterActionOutcome.SendFailed;
                    }

                    sent++;
                    job.Count(outcome);
                }
            }

            job.Finish(ReplayJobState.Completed, null, clock.GetUtcNow());
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            job.Finish(ReplayJobState.Cancelled, null, clock.GetUtcNow());
        }
        catch (Exception ex)
        {
            LogJobFailed(logger, job.Id, ex);
            job.Finish(ReplayJobState.Failed, ex.GetType().Name + ": " + ex.Message, clock.GetUtcNow());
        }

        LogFinished(logger, job.Id, job.Progress().State, job.Progress().Replayed, job.Total);
    }

    private sealed class Job(Guid id, string requestedBy, DateTimeOffset startedAt, int batchSize, double ratePerSecond, int total)
    {
        private readonly Lock gate = new();
        private int replayed;
        private int skipped;
        private int failed;
        private int notFound;
        private ReplayJobState state = ReplayJobState.Running;
        private DateTimeOffset? finishedAt;
        private string? error;

        public Guid Id { get; } = id;

        public string RequestedBy { get; } = requestedBy;

        public int BatchSize { get; } = batchSize;

        public double RatePerSecond { get; } = ratePerSecond;

        public int Total { get; } = total;

        public CancellationTokenSource Cancellation { get; } = new();

        public Task? Run { get; set; }

        public void Count(DeadLetterActionOutcome outcome)
        {
            lock (gate)
            {
                switch (outcome)
                {
                    case DeadLetterActionOutcome.Done: replayed++; break;
                    case DeadLetterActionOutcome.NotFound: notFound++; break;
                    case DeadLetterActionOutcome.Conflict: skipped++; break;
                    default: failed++; break;
                }
            }
        }

        public void Finish(ReplayJobState final, string? failure, DateTimeOffset at)
        {
            lock (gate)
            {
                state = final;
                error = failure;
                finishedAt = at;
            }
        }

        public ReplayJobProgress Progress()
        {
            lock (gate)
            {
                return new ReplayJobProgress(Id, state, RequestedBy, startedAt, finishedAt, BatchSize, RatePerSecond, Total, replayed, skipped, failed, notFound, error);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replay job {JobId} started by {Actor}: {Count} dead letters, batches of {BatchSize}, at most {Rate}/s")]
    private static partial void LogStarted(ILogger logger, Guid jobId, int count, string actor, int batchSize, double rate);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay job {JobId} could not replay dead letter {DeadLetterId}; it stays Pending")]
    private static partial void LogItemFailed(ILogger logger, Guid jobId, Guid deadLetterId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replay job {JobId} {State}: {Replayed} of {Total} replayed")]
    private static partial void LogFinished(ILogger logger, Guid jobId, ReplayJobState state, int replayed, int total);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replay job {JobId} failed")]
    private static partial void LogJobFailed(ILogger logger, Guid jobId, Exception exception);
}
