using System.Data.Common;
using System.Text;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Storage;
using Dapper;

namespace Bridge.Tests.Storage;

/// <summary>
/// Every purge deletes in batches (on SQL Server one DELETE over many rows escalates to a table lock): one statement
/// takes at most one batch, and with a batch far smaller than what is due a purge still takes everything due, and
/// nothing newer.
/// </summary>
public abstract class PurgeInBatchesTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : StorageFixture
{
    private const int BatchSize = 3;

    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TestClock clock = new(Start);

    /// <summary>The test's database, with a purge batch of <see cref="BatchSize"/>.</summary>
    private IBridgeDatabase Database => new SmallBatchDatabase(fixture.Database, BatchSize);

    public async Task InitializeAsync()
    {
        await fixture.ResetAsync();
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync($"DELETE FROM {fixture.Table("dead_letter_audit")}; DELETE FROM {fixture.Table("dead_letters")};");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [StoreFact]
    public async Task Idempotency_purge_takes_every_due_record_one_batch_at_a_time()
    {
        var store = new SqlIdempotencyStore(Database, clock);
        var due = await CompletedRecordsAsync(store, 7);
        await store.BeginAsync("old-in-progress", "T", "fp", null, CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(10));
        var recent = await CompletedRecordsAsync(store, 2);

        Assert.Equal(BatchSize, await PurgeOneBatchAsync(IdempotencySql.For(fixture.Dialect).Purge));
        var purged = await store.PurgeAsync(Start.AddDays(1), CancellationToken.None);

        Assert.Equal(due.Count - BatchSize, purged);
        foreach (var key in due)
        {
            Assert.Null(await store.FindAsync(key, CancellationToken.None));
        }

        foreach (var key in recent)
        {
            Assert.NotNull(await store.FindAsync(key, CancellationToken.None));
        }

        Assert.NotNull(await store.FindAsync("old-in-progress", CancellationToken.None));
    }

    [StoreFact]
    public async Task Outbox_purge_takes_every_due_message_one_batch_at_a_time()
    {
        var store = new SqlOutboxStore(Database, clock);
        var due = Enumerable.Range(0, 2 * BatchSize).Select(i => Message(Start.AddSeconds(i))).ToList();
        var recent = Enumerable.Range(0, 2).Select(i => Message(Start.AddSeconds(100 + i))).ToList();
        var pending = Message(Start.AddSeconds(200));
        await EnqueueAsync(store, [.. due, .. recent, pending]);
        foreach (var message in due)
        {
            await store.MarkDispatchedAsync([message.Id], "instance-a", CancellationToken.None);
        }

        clock.Advance(TimeSpan.FromDays(10));
        foreach (var message in recent)
        {
            await store.MarkDispatchedAsync([message.Id], "instance-a", CancellationToken.None);
        }

        Assert.Equal(BatchSize, await PurgeOneBatchAsync(OutboxSql.For(fixture.Dialect).PurgeDispatched));
        var purged = await store.PurgeDispatchedAsync(Start.AddDays(1), CancellationToken.None);

        Assert.Equal(due.Count - BatchSize, purged);
        Assert.Equal(3, await RowCountAsync("outbox_messages"));
        Assert.Equal(1, await store.CountPendingAsync(CancellationToken.None));
    }

    [StoreFact]
    public async Task Dead_letter_purge_takes_every_due_letter_one_batch_at_a_time()
    {
        var store = new SqlDeadLetterStore(Database, clock);
        var due = new List<Guid>();
        for (var i = 0; i < 2 * BatchSize + 1; i++)
        {
            due.Add(await CaptureAsync(store, $"m-old-{i}"));
        }

        clock.Advance(TimeSpan.FromDays(10));
        var recent = await CaptureAsync(store, "m-recent");

        Assert.Equal(BatchSize, await PurgeOneBatchAsync(DeadLetterSql.For(fixture.Dialect).Purge));
        var purged = await store.PurgeAsync(Start.AddDays(1), CancellationToken.None);

        Assert.Equal(due.Count - BatchSize, purged);
        Assert.Equal(1, await RowCountAsync("dead_letters"));
        Assert.Equal(1, await RowCountAsync("dead_letter_audit"));
        Assert.NotNull(await store.GetAsync(recent, CancellationToken.None));
    }

    /// <summary>Runs a purge statement once, as the store would, with the cutoff one day after the start.</summary>
    private async Task<int> PurgeOneBatchAsync(string statement)
    {
        var cutoff = Start.AddDays(1);
        object olderThan = fixture.Dialect == SqlDialect.Sqlite ? cutoff.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'") : cutoff;
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteAsync(statement, new { OlderThan = olderThan, BatchSize });
    }

    private static OutboxMessage Message(DateTimeOffset createdAt) =>
        new(Guid.NewGuid(), "ClosingDocumentSent", "{}", "{}", createdAt, 0);

    private async Task<List<string>> CompletedRecordsAsync(SqlIdempotencyStore store, int count)
    {
        var keys = Enumerable.Range(0, count).Select(_ => "msg-" + Guid.NewGuid().ToString("N")).ToList();
        foreach (var key in keys)
        {
            await store.BeginAsync(key, "T", "fp", null, CancellationToken.None);
            await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
            await using var transaction = await connection.BeginTransactionAsync();
            await store.CompleteAsync(transaction, key, "Sent", null, CancellationToken.None);
            await transaction.CommitAsync();
        }

        return keys;
    }

    private async Task EnqueueAsync(SqlOutboxStore store, params OutboxMessage[] messages)
    {
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var message in messages)
        {
            await store.EnqueueAsync(transaction, message, CancellationToken.None);
        }

        await transaction.CommitAsync();
    }

    private async Task<Guid> CaptureAsync(SqlDeadLetterStore store, string messageId)
    {
        var letter = new NewDeadLetter(
            Guid.NewGuid(),
            "bridge.purge-test",
            "SendClosingDocument",
            messageId,
            "doc-1",
            "corr-1",
            "application/json",
            DeadLetterBody.FromBytes(Encoding.UTF8.GetBytes("""{"key":"doc-1"}""")),
            new Dictionary<string, string?> { ["message_id"] = messageId },
            "Bridge.ActivePlatform.ActivePlatformServerException",
            "ActivePlatform answered 503.",
            null,
            1,
            clock.GetUtcNow());
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        var captured = await store.CaptureAsync(transaction, letter, CancellationToken.None);
        await transaction.CommitAsync();
        return captured.Id;
    }

    private async Task<long> RowCountAsync(string table)
    {
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {fixture.Table(table)};");
    }

    /// <summary>The same database with another purge batch size.</summary>
    private sealed class SmallBatchDatabase(IBridgeDatabase inner, int purgeBatchSize) : IBridgeDatabase
    {
        public SqlDialect Dialect => inner.Dialect;

        public int PurgeBatchSize => purgeBatchSize;

        public Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => inner.OpenAsync(cancellationToken);

        public Task MigrateAsync(CancellationToken cancellationToken) => inner.MigrateAsync(cancellationToken);
    }
}

public sealed class PostgreSqlPurgeInBatchesTests(PostgreSqlStorageFixture fixture) : PurgeInBatchesTests<PostgreSqlStorageFixture>(fixture);

public sealed class SqlitePurgeInBatchesTests(SqliteStorageFixture fixture) : PurgeInBatchesTests<SqliteStorageFixture>(fixture);

[RequiresEnvironmentVariable(SqlServerStorageFixture.Variable)]
public sealed class SqlServerPurgeInBatchesTests(SqlServerStorageFixture fixture) : PurgeInBatchesTests<SqlServerStorageFixture>(fixture);
