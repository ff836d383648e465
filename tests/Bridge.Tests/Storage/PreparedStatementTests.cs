using Bridge.Host.Storage;
using Dapper;
using Npgsql;

namespace Bridge.Tests.Storage;

/// <summary>
/// Bridge's PostgreSQL connections keep their hot statements prepared (issue 8: parsing and planning every statement was a
/// third of the server's CPU per message), unless the connection string says otherwise — behind a pooler in transaction
/// mode an operator sets <c>Max Auto Prepare=0</c>, and that must be obeyed.
/// </summary>
public sealed class PreparedStatementTests(PostgreSqlStorageFixture fixture) : IClassFixture<PostgreSqlStorageFixture>
{
    [Fact]
    public async Task A_statement_run_repeatedly_is_prepared_on_its_connection()
    {
        var marker = "prepared_" + Guid.NewGuid().ToString("N");
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        for (var run = 0; run < 8; run++)
        {
            Assert.Equal(run, await connection.ExecuteScalarAsync<int>($"SELECT @Run /* {marker} */;", new { Run = run }));
        }

        var prepared = await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE @Pattern;", new { Pattern = $"%{marker}%" });
        Assert.Equal(1, prepared);
    }

    [Fact]
    public async Task A_connection_string_that_sets_Max_Auto_Prepare_is_obeyed()
    {
        var server = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable(PostgreSqlStorageFixture.Variable)) { MaxAutoPrepare = 0 };
        await using var database = new BridgeDatabase(new StorageOptions { Provider = SqlDialect.PostgreSql, ConnectionString = server.ConnectionString });
        var marker = "unprepared_" + Guid.NewGuid().ToString("N");
        await using var connection = await database.OpenAsync(CancellationToken.None);
        for (var run = 0; run < 8; run++)
        {
            await connection.ExecuteScalarAsync<int>($"SELECT @Run /* {marker} */;", new { Run = run });
        }

        var prepared = await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE @Pattern;", new { Pattern = $"%{marker}%" });
        Assert.Equal(0, prepared);
    }

    [Fact]
    public async Task A_running_instance_keeps_working_after_another_instance_migrates_a_column_to_another_type()
    {
        // Review s12: a rolling upgrade runs the new version's migrations while the old instances go on. Migration 0012 changed
        // a column's type (effect_id to varchar(64)); a statement prepared before such a change fails on that connection with
        // 0A000 "cached plan must not change result type" — a failure Bridge neither retries in place nor classifies as the
        // database being unreachable (an answer ActivePlatform gave is then not recorded: the effect stays unresolved).
        var server = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable(PostgreSqlStorageFixture.Variable));
        var migrated = await fixture.CreateEmptyDatabaseAsync();
        await migrated.MigrateAsync(CancellationToken.None);
        var name = await DatabaseNameOf(migrated);
        await using var running = new BridgeDatabase(new StorageOptions
        {
            Provider = SqlDialect.PostgreSql,
            ConnectionString = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name, MaxPoolSize = 1 }.ConnectionString,
        });
        var records = new SqlIdempotencyStore(running, TimeProvider.System);
        await records.BeginAsync("k-1", "SendClosingDocument", "fp-1", "doc-1", CancellationToken.None);
        for (var run = 0; run < 8; run++)
        {
            Assert.NotNull(await records.FindAsync("k-1", CancellationToken.None));
        }

        // Another instance's migration, as 0012 did for effect_id: a wider type for a column the statement returns.
        await using (var migration = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name }.ConnectionString))
        {
            await migration.OpenAsync();
            await migration.ExecuteAsync("ALTER TABLE bridge.idempotency_records ALTER COLUMN fingerprint TYPE varchar(200);");
        }

        // The stale statement fails once, as a blip of the connection (so an answer being recorded is tried again, and a
        // message is retried in process); run again, it is prepared anew and answers.
        var failure = await Record.ExceptionAsync(() => records.FindAsync("k-1", CancellationToken.None));
        Assert.NotNull(failure);
        Assert.True(DatabaseFailures.IsUnreachable(failure), $"not taken for a blip: {failure}");
        Assert.NotNull(await records.FindAsync("k-1", CancellationToken.None));

        // And a write that records an answer rides it out in place, as it rides out a restart of the server: prepared again
        // (five uses), made stale again, run under the answer writes' patience.
        for (var run = 0; run < 8; run++)
        {
            Assert.NotNull(await records.FindAsync("k-1", CancellationToken.None));
        }

        await migrationOf(name, "ALTER TABLE bridge.idempotency_records ALTER COLUMN fingerprint TYPE varchar(300);");
        var attempts = 0;
        IdempotencyRecord? found = null;
        await DatabaseFailures.WhileUnreachableAsync(
            async () =>
            {
                attempts++;
                found = await records.FindAsync("k-1", CancellationToken.None);
            },
            CancellationToken.None);
        Assert.NotNull(found);
        Assert.Equal(2, attempts);

        async Task migrationOf(string database, string sql)
        {
            await using var migration = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = database }.ConnectionString);
            await migration.OpenAsync();
            await migration.ExecuteAsync(sql);
        }
    }

    private static async Task<string> DatabaseNameOf(BridgeDatabase database)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        return connection.Database;
    }
}
