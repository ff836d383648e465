using Bridge.Host.DeadLetters.Replay;
using Bridge.Host.Storage;
using Dapper;

namespace Bridge.Tests.Storage;

/// <summary>
/// Replay jobs in each real database: what one instance writes, every other reads; a cancel asked anywhere reaches the
/// running instance at its next progress write; a job whose instance stopped writing is Interrupted once its lease has run
/// out by the database's clock (moved forward here by ageing the stored lease).
/// </summary>
public abstract class ReplayJobStoreTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : StorageFixture
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private SqlReplayJobStore Store => new(fixture.Database);

    public async Task InitializeAsync()
    {
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync($"DELETE FROM {fixture.Table("replay_jobs")};");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [StoreFact]
    public async Task A_job_written_by_one_instance_is_read_back_whole_by_another()
    {
        // A filter's text may hold what a database refuses (PostgreSQL: U+0000): it is stored escaped, never refused.
        var job = NewJob("instance-a") with { Request = "{\"queue\":\"bridge.send-closing-document\",\"text\":\"odd \u0000 byte\"}" };
        await Store.CreateAsync(job, Lease, CancellationToken.None);

        // Another instance: another store object over the same database.
        var other = new SqlReplayJobStore(fixture.Database);
        Assert.False(await Store.ProgressAsync(job.Id, "instance-a", new ReplayJobCounts(2, 1, 0, 0), Lease, CancellationToken.None));
        var read = await other.GetAsync(job.Id, CancellationToken.None);

        Assert.NotNull(read);
        Assert.Equal(job with { Replayed = 2, Skipped = 1, Request = job.Request.Replace("\u0000", "\\u0000", StringComparison.Ordinal) }, read);
        Assert.Null(await other.GetAsync(Guid.NewGuid(), CancellationToken.None));
    }

    [StoreFact]
    public async Task A_cancel_asked_by_any_instance_is_seen_by_the_running_one_at_its_next_progress_write()
    {
        var job = NewJob("instance-a");
        await Store.CreateAsync(job, Lease, CancellationToken.None);

        Assert.True(await new SqlReplayJobStore(fixture.Database).RequestCancelAsync(job.Id, CancellationToken.None));
        var seen = await Store.ProgressAsync(job.Id, "instance-a", new ReplayJobCounts(1, 0, 0, 0), Lease, CancellationToken.None);
        Assert.True(await Store.FinishAsync(job.Id, "instance-a", ReplayJobState.Cancelled, new ReplayJobCounts(1, 0, 0, 0), null, Start.AddSeconds(3), CancellationToken.None));

        Assert.True(seen);
        var read = (await Store.GetAsync(job.Id, CancellationToken.None))!;
        Assert.Equal((ReplayJobState.Cancelled, Start.AddSeconds(3), 1, true), (read.State, read.FinishedAt, read.Replayed, read.CancelRequested));
        // A finished job takes no cancel, no progress and no second end.
        Assert.False(await Store.RequestCancelAsync(job.Id, CancellationToken.None));
        Assert.Null(await Store.ProgressAsync(job.Id, "instance-a", new ReplayJobCounts(9, 0, 0, 0), Lease, CancellationToken.None));
        Assert.False(await Store.FinishAsync(job.Id, "instance-a", ReplayJobState.Completed, new ReplayJobCounts(9, 0, 0, 0), null, Start, CancellationToken.None));
    }

    [StoreFact]
    public async Task A_job_whose_instance_stopped_writing_is_Interrupted_once_its_lease_ran_out_and_its_late_writes_are_refused()
    {
        var silent = NewJob("instance-a");
        var alive = NewJob("instance-b") with { StartedAt = Start.AddMinutes(1) };
        await Store.CreateAsync(silent, Lease, CancellationToken.None);
        await Store.CreateAsync(alive, Lease, CancellationToken.None);
        Assert.Equal(0, await Store.InterruptExpiredAsync(CancellationToken.None));

        // The database's clock moves past the silent job's lease; the live one renews its own.
        await AgeLeaseAsync(silent.Id, Lease + TimeSpan.FromSeconds(1));
        Assert.False(await Store.ProgressAsync(alive.Id, "instance-b", new ReplayJobCounts(1, 0, 0, 0), Lease, CancellationToken.None));

        Assert.Equal(1, await Store.InterruptExpiredAsync(CancellationToken.None));
        var interrupted = (await Store.GetAsync(silent.Id, CancellationToken.None))!;
        Assert.Equal(ReplayJobState.Interrupted, interrupted.State);
        Assert.NotNull(interrupted.FinishedAt);
        Assert.Contains("still Pending", interrupted.Error, StringComparison.Ordinal);
        Assert.Equal(ReplayJobState.Running, (await Store.GetAsync(alive.Id, CancellationToken.None))!.State);

        // The instance comes back late: its job is no longer its to write.
        Assert.Null(await Store.ProgressAsync(silent.Id, "instance-a", new ReplayJobCounts(5, 0, 0, 0), Lease, CancellationToken.None));
        Assert.False(await Store.FinishAsync(silent.Id, "instance-a", ReplayJobState.Completed, new ReplayJobCounts(5, 0, 0, 0), null, Start, CancellationToken.None));
        // Nor does anyone but its owner write a running job.
        Assert.Null(await Store.ProgressAsync(alive.Id, "instance-a", new ReplayJobCounts(5, 0, 0, 0), Lease, CancellationToken.None));

        var listed = await Store.ListAsync(10, CancellationToken.None);
        Assert.Equal([alive.Id, silent.Id], listed.Select(j => j.Id));
    }

    private static StoredReplayJob NewJob(string owner) => new(
        Guid.NewGuid(), ReplayJobState.Running, "alice", "{\"queue\":\"bridge.send-closing-document\"}", owner, Start, null, 50, 20, 7, 0, 0, 0, 0, null, false);

    private async Task AgeLeaseAsync(Guid id, TimeSpan by)
    {
        var moved = fixture.Dialect switch
        {
            SqlDialect.PostgreSql => "lease_expires_at - @By",
            SqlDialect.SqlServer => "DATEADD(millisecond, -CAST(@Milliseconds AS int), lease_expires_at)",
            _ => "strftime('%Y-%m-%dT%H:%M:%f0000Z', lease_expires_at, '-' || (@Milliseconds / 1000.0) || ' seconds')",
        };
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync(
            $"UPDATE {fixture.Table("replay_jobs")} SET lease_expires_at = {moved} WHERE id = @Id;",
            new { Id = fixture.IdParameter(id), By = by, Milliseconds = (long)by.TotalMilliseconds });
    }
}

public sealed class PostgreSqlReplayJobStoreTests(PostgreSqlStorageFixture fixture) : ReplayJobStoreTests<PostgreSqlStorageFixture>(fixture);

public sealed class SqliteReplayJobStoreTests(SqliteStorageFixture fixture) : ReplayJobStoreTests<SqliteStorageFixture>(fixture);

[RequiresEnvironmentVariable(SqlServerStorageFixture.Variable)]
public sealed class SqlServerReplayJobStoreTests(SqlServerStorageFixture fixture) : ReplayJobStoreTests<SqlServerStorageFixture>(fixture);
