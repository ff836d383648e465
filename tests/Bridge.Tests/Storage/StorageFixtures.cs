using Bridge.Host.Storage;
using Dapper;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;

namespace Bridge.Tests.Storage;

/// <summary>
/// One real database per test class (migrated, emptied before each test), plus empty databases on request for the
/// migration tests; everything created is dropped at the end so runs never see each other's rows.
/// </summary>
public abstract class StorageFixture : IAsyncLifetime
{
    private readonly List<(BridgeDatabase Database, string Name)> created = [];
    private BridgeDatabase? database;

    public abstract SqlDialect Dialect { get; }

    /// <summary>The migrated database the store tests share.</summary>
    public BridgeDatabase Database => database ?? throw new InvalidOperationException("The fixture did not initialize.");

    public string Table(string name) => Dialect == SqlDialect.Sqlite ? name : "bridge." + name;

    /// <summary>An id as the dialect stores it, for tests that read rows directly.</summary>
    public object IdParameter(Guid id) => Dialect == SqlDialect.Sqlite ? id.ToString("D") : id;

    /// <summary>
    /// Moves every lease and retry time stored in the claims and the outbox back by <paramref name="by"/>: to the store,
    /// whose leases follow the database's clock, this is that clock moving forward.
    /// </summary>
    public async Task AgeLeasesAsync(TimeSpan by)
    {
        var columns = new[] { ("document_states", "claim_expires_at"), ("outbox_messages", "locked_until"), ("outbox_messages", "next_attempt_at") };
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        foreach (var (table, column) in columns)
        {
            var moved = Dialect switch
            {
                SqlDialect.PostgreSql => $"{column} - @By",
                SqlDialect.SqlServer => $"DATEADD(millisecond, -CAST(@Milliseconds AS int), {column})",
                _ => $"strftime('%Y-%m-%dT%H:%M:%f0000Z', {column}, '-' || (@Milliseconds / 1000.0) || ' seconds')",
            };
            await connection.ExecuteAsync(
                $"UPDATE {Table(table)} SET {column} = {moved} WHERE {column} IS NOT NULL;",
                new { By = by, Milliseconds = (long)by.TotalMilliseconds });
        }
    }

    public async Task<BridgeDatabase> CreateEmptyDatabaseAsync()
    {
        var name = "bridge_test_" + Guid.NewGuid().ToString("N");
        var connectionString = await CreateDatabaseAsync(name);
        var created = new BridgeDatabase(new StorageOptions { Provider = Dialect, ConnectionString = connectionString });
        this.created.Add((created, name));
        return created;
    }

    public async Task ResetAsync()
    {
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        foreach (var table in new[] { "idempotency_records", "document_states", "outbox_messages" })
        {
            await connection.ExecuteAsync($"DELETE FROM {Table(table)};");
        }
    }

    public virtual async Task InitializeAsync()
    {
        database = await CreateEmptyDatabaseAsync();
        await database.MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        foreach (var (created, name) in this.created)
        {
            await created.DisposeAsync();
            await DropDatabaseAsync(name);
        }
    }

    /// <summary>Creates an empty database and returns the connection string to it.</summary>
    protected abstract Task<string> CreateDatabaseAsync(string name);

    protected abstract Task DropDatabaseAsync(string name);
}

public sealed class PostgreSqlStorageFixture : StorageFixture
{
    public const string Variable = "BRIDGE_TEST_POSTGRES";

    public override SqlDialect Dialect => SqlDialect.PostgreSql;

    private static NpgsqlConnectionStringBuilder Server()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                $"{Variable} is not set, so the PostgreSQL store tests cannot run. Run ./test.sh, which starts a private PostgreSQL and sets it.");
        }

        return new NpgsqlConnectionStringBuilder(value);
    }

    protected override async Task<string> CreateDatabaseAsync(string name)
    {
        var server = Server();
        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync($"CREATE DATABASE \"{name}\";");
        }

        server.Database = name;
        return server.ConnectionString;
    }

    protected override async Task DropDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(Server().ConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE);");
    }
}

public sealed class SqliteStorageFixture : StorageFixture
{
    private readonly string directory = Directory.CreateTempSubdirectory("bridge-storage-").FullName;

    public override SqlDialect Dialect => SqlDialect.Sqlite;

    protected override Task<string> CreateDatabaseAsync(string name) =>
        Task.FromResult(new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, name + ".db") }.ConnectionString);

    protected override Task DropDatabaseAsync(string name)
    {
        // Pooled connections keep the file open.
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(directory, name + ".db*"))
        {
            File.Delete(file);
        }

        if (!Directory.EnumerateFileSystemEntries(directory).Any())
        {
            Directory.Delete(directory);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Runs only when <c>BRIDGE_TEST_SQLSERVER</c> is set; otherwise it does nothing and the tests report skipped.</summary>
public sealed class SqlServerStorageFixture : StorageFixture
{
    public const string Variable = "BRIDGE_TEST_SQLSERVER";

    public override SqlDialect Dialect => SqlDialect.SqlServer;

    private static string? ServerConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    public override Task InitializeAsync() => ServerConnectionString is null ? Task.CompletedTask : base.InitializeAsync();

    protected override async Task<string> CreateDatabaseAsync(string name)
    {
        var server = new SqlConnectionStringBuilder(ServerConnectionString);
        await using (var connection = new SqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync($"CREATE DATABASE [{name}];");
        }

        server.InitialCatalog = name;
        return server.ConnectionString;
    }

    protected override async Task DropDatabaseAsync(string name)
    {
        SqlConnection.ClearAllPools();
        await using var connection = new SqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync(
            $"IF DB_ID(N'{name}') IS NOT NULL BEGIN ALTER DATABASE [{name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{name}]; END;");
    }
}
