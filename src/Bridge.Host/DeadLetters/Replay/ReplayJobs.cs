using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Bridge.Host.DeadLetters.Store;
using Microsoft.Extensions.Options;

namespace Bridge.Host.DeadLetters.Replay;

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

    /// <summary>Its instance stopped or died before it ended; the dead letters it had not reached are still Pending.</summary>
    Interrupted,
}

/// <summary>Progress of a bulk replay. <c>Skipped</c> counts dead letters that were not Pending (or were being replayed) when reached.</summary>
public sealed record ReplayJobProgress(
    Guid Id,
    ReplayJobState State,
    string RequestedBy,
    string Request,
    string Instance,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    int BatchSize,
    double RatePerSecond,
    int Total,
    int Replayed,
    int Skipped,
    int Failed,
    int NotFound,
    string? Error,
    bool CancelRequested)
{
    public static ReplayJobProgress From(StoredReplayJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return new(job.Id, job.State, job.RequestedBy, job.Request, job.Owner, job.StartedAt, job.FinishedAt, job.BatchSize, job.RatePerSecond,
            job.Total, job.Replayed, job.Skipped, job.Failed, job.NotFound, job.Error, job.CancelRequested);
    }
}

/// <summary>
/// Runs bulk replays in the background, one dead letter at a time through <see cref="DeadLetterOperations.ReplayAsync"/>
/// (so each gets the replay guard and its audit entry), paced to the requested rate. The set of dead letters is fixed when
/// the job starts, so a message that fails again during the job is not replayed twice by it. Jobs are stored in the database
/// (<see cref="IReplayJobStore"/>): any instance lists them, shows their progress and cancels them (the running instance sees
/// the request at its next progress write), and a job whose instance stopped or died is reported Interrupted.
/// </summary>
public sealed partial class ReplayJobs(
    DeadLetterOperations operations,
    IDeadLetterStore store,
    IReplayJobStore jobStore,
    Hosting.InstanceRegistry instance,
    IOptions<DeadLetterOptions> options,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<ReplayJobs> logger)
{
    /// <summary>This instance, as the jobs it runs name it.</summary>
    public string Instance => instance.Id;

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
        var description = request.Ids is not null
            ? $"{ids.Count} dead letters by id"
            : System.Text.Json.JsonSerializer.Serialize(request.Filter, DescriptionJson);
        await jobStore.CreateAsync(
            new StoredReplayJob(job.Id, ReplayJobState.Running, actor, description, Instance, job.StartedAt, null, batchSize, rate, ids.Count, 0, 0, 0, 0, null, false),
            settings.ReplayJobLease,
            cancellationToken);
        jobs[job.Id] = job;
        job.Run = Task.Run(() => RunAsync(job, ids), CancellationToken.None);
        LogStarted(logger, job.Id, ids.Count, actor, batchSize, rate);
        return (await GetAsync(job.Id, cancellationToken))!;
    }

    /// <summary>A job started on any instance; null when there is none with this id.</summary>
    public async Task<ReplayJobProgress?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await jobStore.InterruptExpiredAsync(cancellationToken);
        return await jobStore.GetAsync(id, cancellationToken) is { } stored ? ReplayJobProgress.From(stored) : null;
    }

    /// <summary>The most recent jobs of every instance, newest first.</summary>
    public async Task<IReadOnlyList<ReplayJobProgress>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        await jobStore.InterruptExpiredAsync(cancellationToken);
        return (await jobStore.ListAsync(limit, cancellationToken)).Select(ReplayJobProgress.From).ToList();
    }

    /// <summary>
    /// Asks the job to stop after the dead letter it is on: at once when this instance runs it, else at the running instance's
    /// next progress write. Null when there is no job with this id.
    /// </summary>
    public async Task<ReplayJobProgress?> CancelAsync(Guid id, CancellationToken cancellationToken)
    {
        await jobStore.RequestCancelAsync(id, cancellationToken);
        if (jobs.TryGetValue(id, out var job))
        {
            await job.Cancellation.CancelAsync();
        }

        return await GetAsync(id, cancellationToken);
    }

    /// <summary>Waits for a job this instance runs to end (tests and the CLI's --wait); returns its final progress.</summary>
    public async Task<ReplayJobProgress?> WaitAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!jobs.TryGetValue(id, out var job) || job.Run is null)
        {
            return null;
        }

        await job.Run.WaitAsync(cancellationToken);
        return await GetAsync(id, cancellationToken);
    }

    private static readonly System.Text.Json.JsonSerializerOptions DescriptionJson = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

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
        var stopping = lifetime.ApplicationStopping;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(job.Cancellation.Token, stopping);
        var lease = options.Value.ReplayJobLease;
        var heartbeat = lease / 3;
        var interval = TimeSpan.FromSeconds(1 / job.RatePerSecond);
        var started = clock.GetTimestamp();
        var sent = 0;
        ReplayJobState final;
        string? failure = null;
        try
        {
            foreach (var batch in ids.Chunk(job.BatchSize))
            {
                stop.Token.ThrowIfCancellationRequested();
                foreach (var id in batch)
                {
                    // Rate limit: message n is not sent before start + n × interval; a long wait keeps the lease alive.
                    TimeSpan due;
                    while ((due = interval * sent - clock.GetElapsedTime(started)) > TimeSpan.Zero)
                    {
                        await Task.Delay(due < heartbeat ? due : heartbeat, clock, stop.Token);
                        if (due >= heartbeat)
                        {
                            await ReportAsync(job, stop, lease);
                        }
                    }

                    // One dead letter that cannot be replayed (a passing database error, a purge racing the job) is
                    // counted as failed and stays Pending; it does not end the job for the others.
                    DeadLetterActionOutcome outcome;
                    try
                    {
                        // A slow send (a broker blocking publishers) must not cost the job its lease: it is renewed meanwhile.
                        var replay = operations.ReplayAsync(id, job.RequestedBy, job.Id.ToString("D"), stop.Token);
                        while (await Task.WhenAny(replay, Task.Delay(heartbeat, clock, stop.Token)) != replay)
                        {
                            await ReportAsync(job, stop, lease);
                        }

                        outcome = (await replay).Outcome;
                    }
                    catch (Exception ex) when (!stop.IsCancellationRequested && ex is not LeaseLostException)
                    {
                        // A cancellation that is not the job's (a timeout inside the send) is this dead letter's failure only.
                        LogItemFailed(logger, job.Id, id, ex);
                        outcome = DeadLetterActionOutcome.SendFailed;
                    }

                    sent++;
                    job.Count(outcome);
                    await ReportAsync(job, stop, lease);
                }
            }

            final = ReplayJobState.Completed;
        }
        catch (LeaseLostException)
        {
            // Another reader judged this instance gone (its lease ran out) and marked the job Interrupted: that is what it is.
            LogLeaseLost(logger, job.Id);
            return;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Asked to stop, or this instance is stopping: the job did not end by itself, and the next one to look knows why.
            final = job.Cancellation.IsCancellationRequested ? ReplayJobState.Cancelled : ReplayJobState.Interrupted;
            failure = final == ReplayJobState.Interrupted
                ? "The instance running it stopped before it ended; the dead letters it had not reached are still Pending: replay them again."
                : null;
        }
        catch (Exception ex)
        {
            LogJobFailed(logger, job.Id, ex);
            final = ReplayJobState.Failed;
            failure = ex.GetType().Name + ": " + ex.Message;
        }

        try
        {
            await jobStore.FinishAsync(job.Id, Instance, final, job.Counts(), failure, clock.GetUtcNow(), CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The lease runs out and the next reader reports the job Interrupted: late, but not forgotten.
            LogFinishNotRecorded(logger, job.Id, ex);
        }

        LogFinished(logger, job.Id, final, job.Counts().Replayed, job.Total);
    }

    /// <summary>Writes the job's progress and renews its lease; a cancel asked from any instance cancels it here.</summary>
    private async Task ReportAsync(Job job, CancellationTokenSource stop, TimeSpan lease)
    {
        bool? cancel;
        try
        {
            cancel = await jobStore.ProgressAsync(job.Id, Instance, job.Counts(), lease, stop.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A passing database error: the next write renews the lease; the replays themselves are guarded per dead letter.
            LogProgressNotRecorded(logger, job.Id, ex);
            return;
        }

        if (cancel is null)
        {
            throw new LeaseLostException();
        }

        if (cancel.Value)
        {
            await job.Cancellation.CancelAsync();
            stop.Token.ThrowIfCancellationRequested();
        }
    }

    private sealed class LeaseLostException : Exception
    {
    }

    private sealed class Job(Guid id, string requestedBy, DateTimeOffset startedAt, int batchSize, double ratePerSecond, int total)
    {
        private readonly Lock gate = new();
        private int replayed;
        private int skipped;
        private int failed;
        private int notFound;

        public Guid Id { get; } = id;

        public string RequestedBy { get; } = requestedBy;

        public DateTimeOffset StartedAt { get; } = startedAt;

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

        public ReplayJobCounts Counts()
        {
            lock (gate)
            {
                return new ReplayJobCounts(replayed, skipped, failed, notFound);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay job {JobId}: its progress could not be recorded (the next write tries again)")]
    private static partial void LogProgressNotRecorded(ILogger logger, Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay job {JobId}: its end could not be recorded; it will be reported Interrupted when its lease runs out")]
    private static partial void LogFinishNotRecorded(ILogger logger, Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay job {JobId} was marked Interrupted while this instance ran it (its lease ran out): it stops here")]
    private static partial void LogLeaseLost(ILogger logger, Guid jobId);
}
