using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Storage;
using Dapper;

namespace Bridge.Tests.Storage;

/// <summary>
/// Migration 0015 puts what of a dead letter may be in its queue on the letter's row. Letters written before it are
/// marked from their audit trail, so an edit begun or a replay sent before the upgrade keeps the other one out after it.
/// </summary>
public abstract class DeadLetterMarkerMigrationTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : StorageFixture
{
    private const string Markers = "0015_dead_letter_markers.sql";

    private static readonly DateTimeOffset At = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [StoreFact]
    public async Task Letters_from_before_the_markers_are_marked_from_their_audit()
    {
        var database = await fixture.CreateEmptyDatabaseAsync();
        var scripts = MigrationRunner.LoadScripts(fixture.Dialect);
        await using var connection = await database.OpenAsync(CancellationToken.None);
        if (MigrationSql.For(fixture.Dialect).EnsureSchema is { } schema)
        {
            await connection.ExecuteAsync(schema);
        }

        foreach (var script in scripts.TakeWhile(script => string.CompareOrdinal(script.Name, Markers) < 0))
        {
            await connection.ExecuteAsync(script.Sql);
        }

        const string FailedEdit = "aaaaaaaa-aaaa-8aaa-8aaa-aaaaaaaaaaaa";
        const string OtherEdit = "bbbbbbbb-bbbb-8bbb-8bbb-bbbbbbbbbbbb";
        const string SentEdit = "cccccccc-cccc-8ccc-8ccc-cccccccccccc";
        var editFailed = await LetterAsync(connection, "Pending", ("Captured", "Pending", null), ("EditAndReplay", "Refused: Replaying", null),
            ("EditAndReplay", "Sending", $"new message {FailedEdit}"), ("EditAndReplay", "Failed: TimeoutException", $"new message {FailedEdit}"));
        var editSent = await LetterAsync(connection, "Pending", ("Captured", "Pending", null), ("EditAndReplay", "Failed: TimeoutException", $"new message {OtherEdit}"),
            ("EditAndReplay", "Sent", $"new message {SentEdit}"), ("FailedAgain", "Pending", null), ("EditAndReplay", "Failed: TimeoutException", $"new message {OtherEdit}"));
        var replayFailed = await LetterAsync(connection, "Pending", ("Captured", "Pending", null), ("Replay", "Failed: TimeoutException", null));
        var replayLeaseExpired = await LetterAsync(connection, "Discarded", ("Captured", "Pending", null), ("ReplayLeaseExpired", "Pending", null), ("Discard", "Discarded", null));
        var replayed = await LetterAsync(connection, "Replayed", ("Captured", "Pending", null), ("Replay", "Replayed", null));
        var replaying = await LetterAsync(connection, "Replaying", ("Captured", "Pending", null));
        var failedAfterReplay = await LetterAsync(connection, "Pending", ("Captured", "Pending", null), ("Replay", "Replayed", null), ("FailedAgain", "Pending", null));
        var untouched = await LetterAsync(connection, "Pending", ("Captured", "Pending", null), ("Replay", "Refused: edited", null));
        // Two replays since the last capture (helper-74 #5): two copies may be in the queue; one failing again leaves the other.
        var twoReplays = await LetterAsync(connection, "Replayed", ("Captured", "Pending", null), ("Replay", "Replayed", null), ("FailedAgain", "Pending", null),
            ("Replay", "Failed: TimeoutException", null), ("Replay", "Replayed", null));

        await connection.ExecuteAsync(scripts.Single(script => script.Name == Markers).Sql);

        // And the versions after it, which today's store writes to.
        foreach (var script in scripts.SkipWhile(script => string.CompareOrdinal(script.Name, Markers) <= 0))
        {
            await connection.ExecuteAsync(script.Sql);
        }

        var store = new SqlDeadLetterStore(database, new TestClock(At));
        async Task<(string?, bool)> MarkersOf(Guid id) =>
            (await store.GetAsync(id, CancellationToken.None)) is { Letter: var letter } ? (letter.EditMessageId, letter.OriginalSentAt is not null) : default;
        Assert.Equal((FailedEdit, false), await MarkersOf(editFailed));
        Assert.Equal((SentEdit, false), await MarkersOf(editSent));
        Assert.Equal((null, true), await MarkersOf(replayFailed));
        Assert.Equal((null, true), await MarkersOf(replayLeaseExpired));
        Assert.Equal((null, true), await MarkersOf(replayed));
        Assert.Equal((null, true), await MarkersOf(replaying));
        Assert.Equal((null, false), await MarkersOf(failedAfterReplay));
        Assert.Equal((null, false), await MarkersOf(untouched));
        // One copy each: the replayed one failing again lets an edit go.
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await store.CaptureAsync(transaction, Copy(replayFailed), CancellationToken.None);
            await transaction.CommitAsync();
        }

        Assert.Equal((null, false), await MarkersOf(replayFailed));
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await store.CaptureAsync(transaction, Copy(twoReplays), CancellationToken.None);
            await transaction.CommitAsync();
        }

        Assert.Equal((null, true), await MarkersOf(twoReplays));
    }

    private static NewDeadLetter Copy(Guid id) => new(
        Guid.NewGuid(), "bridge.migrated", "SendClosingDocument", "m-" + id.ToString("N"), null, null, "application/json",
        DeadLetterBody.FromBytes("{}"u8), new Dictionary<string, string?> { [NewDeadLetter.ReplayOfHeader] = id.ToString("D") },
        "System.Exception", "failed again", null, 1, At.AddMinutes(1));

    /// <summary>A dead letter as a Bridge before migration 0015 left it: its status and its audit trail, oldest first.</summary>
    private async Task<Guid> LetterAsync(System.Data.Common.DbConnection connection, string status, params (string Action, string Outcome, string? Detail)[] audit)
    {
        var id = Guid.NewGuid();
        var at = fixture.Dialect == SqlDialect.Sqlite
            ? At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture)
            : (object)At;
        var body = DeadLetterBody.FromBytes("{}"u8);
        await connection.ExecuteAsync(
            $$"""
            INSERT INTO {{fixture.Table("dead_letters")}}
                (id, source_queue, message_type, message_id, identity_hash, body, body_encoding, headers, exception_type, exception_message,
                 failure_group, normalized_message, attempt_count, failure_count, first_failed_at, last_failed_at, status, replay_count, updated_at)
            VALUES (@Id, 'bridge.migrated', 'SendClosingDocument', @MessageId, @IdentityHash, '{}', 'utf8', '{}', 'System.Exception', 'failed',
                    'group', 'failed', 1, 1, @At, @At, @Status, 0, @At);
            """,
            new { Id = fixture.IdParameter(id), MessageId = "m-" + id.ToString("N"), IdentityHash = SqlDeadLetterStore.IdentityHash("m-" + id.ToString("N"), body), At = at, Status = status });
        foreach (var (action, outcome, detail) in audit)
        {
            await connection.ExecuteAsync(
                $"INSERT INTO {fixture.Table("dead_letter_audit")} (dead_letter_id, at, actor, action, outcome, detail) VALUES (@Id, @At, 'ops', @Action, @Outcome, @Detail);",
                new { Id = fixture.IdParameter(id), At = at, Action = action, Outcome = outcome, Detail = detail });
        }

        return id;
    }
}

public sealed class PostgreSqlDeadLetterMarkerMigrationTests(PostgreSqlStorageFixture fixture) : DeadLetterMarkerMigrationTests<PostgreSqlStorageFixture>(fixture);

public sealed class SqliteDeadLetterMarkerMigrationTests(SqliteStorageFixture fixture) : DeadLetterMarkerMigrationTests<SqliteStorageFixture>(fixture);

[RequiresEnvironmentVariable(SqlServerStorageFixture.Variable)]
public sealed class SqlServerDeadLetterMarkerMigrationTests(SqlServerStorageFixture fixture) : DeadLetterMarkerMigrationTests<SqlServerStorageFixture>(fixture);
