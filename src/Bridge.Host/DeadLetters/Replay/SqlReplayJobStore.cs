using System.Data;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Storage;
using Dapper;

namespace Bridge.Host.DeadLetters.Replay;

/// <summary>A replay job as stored: what any instance reads, whichever runs it.</summary>
public sealed record StoredReplayJob(
    Guid Id,
    ReplayJobState State,
    string RequestedBy,
    string Request,
    string Owner,
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
    bool CancelRequested);

/// <summary>Counts of a job's progress so far.</summary>
public readonly record struct ReplayJobCounts(int Replayed, int Skipped, int Failed, int NotFound);

/// <summary>
/// Replay jobs in the database, so that every instance behind a load balancer lists them, shows their progress and can
/// cancel them, and a job whose instance stopped or died is reported <see cref="ReplayJobState.Interrupted"/> instead of
/// forgotten. The running instance holds a lease on its job, renewed with every progress write and judged by the database's
/// clock; a Running job whose lease ran out is marked Interrupted by the next reader.
/// </summary>
public interface IReplayJobStore
{
    Task CreateAsync(StoredReplayJob job, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the counts and renews the lease, if <paramref name="owner"/> still runs the job. Null when it no longer does
    /// (another reader marked it Interrupted); otherwise whether someone asked to cancel it.
    /// </summary>
    Task<bool?> ProgressAsync(Guid id, string owner, ReplayJobCounts counts, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Running → <paramref name="state"/>, if <paramref name="owner"/> still runs the job.</summary>
    Task<bool> FinishAsync(Guid id, string owner, ReplayJobState state, ReplayJobCounts counts, string? error, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Asks the instance running the job to stop it after the dead letter it is on; false when it is not Running.</summary>
    Task<bool> RequestCancelAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>Marks Running jobs whose lease ran out (by the database's clock) Interrupted; returns how many.</summary>
    Task<int> InterruptExpiredAsync(CancellationToken cancellationToken);

    Task<StoredReplayJob?> GetAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>The most recent jobs first.</summary>
    Task<IReadOnlyList<StoredReplayJob>> ListAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Deletes the jobs that finished before <paramref name="olderThan"/>, in batches; returns how many.</summary>
    Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken);
}

public sealed class SqlReplayJobStore(IBridgeDatabase database) : IReplayJobStore
{
    private readonly ReplayJobSql sql = ReplayJobSql.For(database.Dialect);
    private readonly SqlDialect dialect = database.Dialect;

    public async Task CreateAsync(StoredReplayJob job, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            sql.Insert,
            new
            {
                Id = SqlValues.Id(dialect, job.Id),
                State = job.State.ToString(),
                RequestedBy = StorableText.Column(job.RequestedBy, 200),
                Request = StorableText.Escape(job.Request, multiline: true),
                Owner = StorableText.Column(job.Owner, 200),
                StartedAt = SqlValues.Timestamp(dialect, job.StartedAt),
                job.BatchSize,
                job.RatePerSecond,
                job.Total,
                LeaseMilliseconds = (long)lease.TotalMilliseconds,
            },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<bool?> ProgressAsync(Guid id, string owner, ReplayJobCounts counts, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var parameters = Counted(id, owner, counts);
        parameters.Add("LeaseMilliseconds", (long)lease.TotalMilliseconds);
        var cancel = await connection.ExecuteScalarAsync(new CommandDefinition(sql.Progress, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return cancel is null or DBNull ? null : SqlValues.ReadBoolean(cancel);
    }

    public async Task<bool> FinishAsync(Guid id, string owner, ReplayJobState state, ReplayJobCounts counts, string? error, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var parameters = Counted(id, owner, counts);
        parameters.Add("State", state.ToString());
        parameters.Add("Error", StorableText.Escape(error, multiline: true));
        parameters.Add("FinishedAt", SqlValues.Timestamp(dialect, at));
        return await connection.ExecuteAsync(new CommandDefinition(sql.Finish, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
    }

    public async Task<bool> RequestCancelAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            sql.RequestCancel, new { Id = SqlValues.Id(dialect, id) }, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
    }

    public async Task<int> InterruptExpiredAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(sql.InterruptExpired, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<StoredReplayJob?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            sql.Select, new { Id = SqlValues.Id(dialect, id) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToJob();
    }

    public async Task<IReadOnlyList<StoredReplayJob>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(sql.List, new { Limit = limit }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => row.ToJob()).ToList();
    }

    public Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken) =>
        SqlPurge.InBatchesAsync(database, sql.Purge, olderThan, cancellationToken);

    private DynamicParameters Counted(Guid id, string owner, ReplayJobCounts counts)
    {
        var parameters = new DynamicParameters();
        parameters.Add("Id", SqlValues.Id(dialect, id));
        parameters.Add("Owner", owner);
        parameters.Add("Replayed", counts.Replayed, DbType.Int32);
        parameters.Add("Skipped", counts.Skipped, DbType.Int32);
        parameters.Add("Failed", counts.Failed, DbType.Int32);
        parameters.Add("NotFound", counts.NotFound, DbType.Int32);
        return parameters;
    }

    private sealed class Row
    {
        public object Id { get; set; } = null!;

        public string State { get; set; } = null!;

        public string RequestedBy { get; set; } = null!;

        public string Request { get; set; } = null!;

        public string Owner { get; set; } = null!;

        public object StartedAt { get; set; } = null!;

        public object? FinishedAt { get; set; }

        public int BatchSize { get; set; }

        public double RatePerSecond { get; set; }

        public int Total { get; set; }

        public int Replayed { get; set; }

        public int Skipped { get; set; }

        public int Failed { get; set; }

        public int NotFound { get; set; }

        public string? Error { get; set; }

        public object CancelRequested { get; set; } = null!;

        public StoredReplayJob ToJob() => new(
            SqlValues.ReadId(Id),
            Enum.Parse<ReplayJobState>(State),
            RequestedBy,
            Request,
            Owner,
            SqlValues.ReadTimestamp(StartedAt),
            FinishedAt is null ? null : SqlValues.ReadTimestamp(FinishedAt),
            BatchSize,
            RatePerSecond,
            Total,
            Replayed,
            Skipped,
            Failed,
            NotFound,
            Error,
            SqlValues.ReadBoolean(CancelRequested));
    }
}

/// <summary>
/// The replay jobs' statements, the three dialects side by side. Leases are set and judged by the database's clock; only
/// their length is a parameter. <see cref="Purge"/> deletes at most <c>@BatchSize</c> rows.
/// </summary>
public sealed record ReplayJobSql(string Insert, string Progress, string Finish, string RequestCancel, string InterruptExpired, string Select, string List, string Purge)
{
    private const string Columns = """
        id AS Id, state AS State, requested_by AS RequestedBy, request AS Request, owner AS Owner, started_at AS StartedAt,
        finished_at AS FinishedAt, batch_size AS BatchSize, rate_per_second AS RatePerSecond, total AS Total,
        replayed AS Replayed, skipped AS Skipped, failed AS Failed, not_found AS NotFound, error AS Error,
        cancel_requested AS CancelRequested
        """;

    private const string Interrupted = "The instance running it stopped before it ended (its lease ran out); the dead letters it had not reached are still Pending: replay them again.";

    public static ReplayJobSql For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.PostgreSql => PostgreSql,
        SqlDialect.SqlServer => SqlServer,
        SqlDialect.Sqlite => Sqlite,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, null),
    };

    public static ReplayJobSql PostgreSql { get; } = new(
        Insert: """
            INSERT INTO bridge.replay_jobs
                (id, state, requested_by, request, owner, started_at, batch_size, rate_per_second, total, lease_expires_at)
            VALUES (@Id, @State, @RequestedBy, @Request, @Owner, @StartedAt, @BatchSize, @RatePerSecond, @Total,
                statement_timestamp() + @LeaseMilliseconds * interval '1 millisecond');
            """,
        Progress: """
            UPDATE bridge.replay_jobs
            SET replayed = @Replayed, skipped = @Skipped, failed = @Failed, not_found = @NotFound,
                lease_expires_at = statement_timestamp() + @LeaseMilliseconds * interval '1 millisecond'
            WHERE id = @Id AND owner = @Owner AND state = 'Running'
            RETURNING cancel_requested;
            """,
        Finish: """
            UPDATE bridge.replay_jobs
            SET state = @State, error = @Error, finished_at = @FinishedAt,
                replayed = @Replayed, skipped = @Skipped, failed = @Failed, not_found = @NotFound
            WHERE id = @Id AND owner = @Owner AND state = 'Running';
            """,
        RequestCancel: "UPDATE bridge.replay_jobs SET cancel_requested = TRUE WHERE id = @Id AND state = 'Running';",
        InterruptExpired: $"""
            UPDATE bridge.replay_jobs
            SET state = 'Interrupted', finished_at = lease_expires_at, error = '{Interrupted}'
            WHERE state = 'Running' AND lease_expires_at < statement_timestamp();
            """,
        Select: $"SELECT {Columns} FROM bridge.replay_jobs WHERE id = @Id;",
        List: $"SELECT {Columns} FROM bridge.replay_jobs ORDER BY started_at DESC, id LIMIT @Limit;",
        Purge: """
            DELETE FROM bridge.replay_jobs
            WHERE id IN (SELECT id FROM bridge.replay_jobs WHERE state <> 'Running' AND finished_at < @OlderThan LIMIT @BatchSize);
            """);

    public static ReplayJobSql SqlServer { get; } = new(
        Insert: """
            INSERT INTO bridge.replay_jobs
                (id, state, requested_by, request, owner, started_at, batch_size, rate_per_second, total, lease_expires_at)
            VALUES (@Id, @State, @RequestedBy, @Request, @Owner, @StartedAt, @BatchSize, @RatePerSecond, @Total,
                DATEADD(millisecond, @LeaseMilliseconds % 1000, DATEADD(second, @LeaseMilliseconds / 1000, SYSUTCDATETIME())));
            """,
        Progress: """
            UPDATE bridge.replay_jobs
            SET replayed = @Replayed, skipped = @Skipped, failed = @Failed, not_found = @NotFound,
                lease_expires_at = DATEADD(millisecond, @LeaseMilliseconds % 1000, DATEADD(second, @LeaseMilliseconds / 1000, SYSUTCDATETIME()))
            OUTPUT inserted.cancel_requested
            WHERE id = @Id AND owner = @Owner AND state = N'Running';
            """,
        Finish: """
            UPDATE bridge.replay_jobs
            SET state = @State, error = @Error, finished_at = @FinishedAt,
                replayed = @Replayed, skipped = @Skipped, failed = @Failed, not_found = @NotFound
            WHERE id = @Id AND owner = @Owner AND state = N'Running';
            """,
        RequestCancel: "UPDATE bridge.replay_jobs SET cancel_requested = 1 WHERE id = @Id AND state = N'Running';",
        InterruptExpired: $"""
            UPDATE bridge.replay_jobs
            SET state = N'Interrupted', finished_at = lease_expires_at, error = N'{Interrupted}'
            WHERE state = N'Running' AND lease_expires_at < SYSUTCDATETIME();
            """,
        Select: $"SELECT {Columns} FROM bridge.replay_jobs WHERE id = @Id;",
        List: $"SELECT TOP (@Limit) {Columns} FROM bridge.replay_jobs ORDER BY started_at DESC, id;",
        Purge: """
            DELETE TOP (@BatchSize) FROM bridge.replay_jobs
            WHERE state <> N'Running' AND finished_at < @OlderThan;
            """);

    private const string SqliteNow = "strftime('%Y-%m-%dT%H:%M:%f0000Z', 'now')";

    private const string SqliteNowPlusLease = "strftime('%Y-%m-%dT%H:%M:%f0000Z', 'now', (@LeaseMilliseconds / 1000.0) || ' seconds')";

    public static ReplayJobSql Sqlite { get; } = new(
        Insert: $"""
            INSERT INTO replay_jobs
                (id, state, requested_by, request, owner, started_at, batch_size, rate_per_second, total, lease_expires_at)
            VALUES (@Id, @State, @RequestedBy, @Request, @Owner, @StartedAt, @BatchSize, @RatePerSecond, @Total, {SqliteNowPlusLease});
            """,
        Progress: $"""
            UPDATE replay_jobs
            SET replayed = @Replayed, skipped = @Skipped, failed = @Failed, not_found = @NotFound,
                lease_expires_at = {SqliteNowPlusLease}
            WHERE id = @Id AND owner = @Owner AND state = 'Running'
            RETURNING cancel_requested;
            """,
        Finish: """
            UPDATE replay_jobs
            SET state = @State, error = @Error, finished_at = @FinishedAt,
                replayed = @Replayed, skipped = @Skipped, failed = @Failed, not_found = @NotFound
            WHERE id = @Id AND owner = @Owner AND state = 'Running';
            """,
        RequestCancel: "UPDATE replay_jobs SET cancel_requested = 1 WHERE id = @Id AND state = 'Running';",
        InterruptExpired: $"""
            UPDATE replay_jobs
            SET state = 'Interrupted', finished_at = lease_expires_at, error = '{Interrupted}'
            WHERE state = 'Running' AND lease_expires_at < {SqliteNow};
            """,
        Select: $"SELECT {Columns} FROM replay_jobs WHERE id = @Id;",
        List: $"SELECT {Columns} FROM replay_jobs ORDER BY started_at DESC, id LIMIT @Limit;",
        Purge: """
            DELETE FROM replay_jobs
            WHERE id IN (SELECT id FROM replay_jobs WHERE state <> 'Running' AND finished_at < @OlderThan LIMIT @BatchSize);
            """);
}
