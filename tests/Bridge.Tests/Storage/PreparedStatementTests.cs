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
}
