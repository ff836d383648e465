using System.Data.Common;
using System.Globalization;
using Bridge.Chaos.Recording;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Bridge.Chaos.Processes;

public enum StorageKind
{
    PostgreSql,
    Sqlite,
}

/// <summary>A live claim on a document (a delivery working on it, or a dead instance's claim not yet expired).</summary>
public sealed record LiveClaim(string Scope, string DocumentKey, string ClaimedBy, DateTimeOffset ExpiresAt);

/// <summary>
/// The run's database: created fresh, read directly for what only the database knows (undispatched outbox rows, live
/// document claims, the claims a killed process held), dropped at the end. The statements name Bridge's tables
/// (<c>outbox_messages</c>, <c>document_states</c>); keep them in step with the migrations.
/// </summary>
public abstract class StorageProbe
{
    public abstract StorageKind Kind { get; }

    /// <summary>What Bridge is given as <c>Bridge:Storage:ConnectionString</c>.</summary>
    public abstract string ConnectionString { get; }

    public string Provider => Kind == StorageKind.PostgreSql ? "PostgreSql" : "Sqlite";

    public static async Task<StorageProbe> CreateAsync(StorageKind kind, string? postgresServer, string workDirectory, string databaseName, CancellationToken ct)
    {
        if (kind == StorageKind.Sqlite)
        {
            return new SqliteProbe(Path.Combine(workDirectory, databaseName + ".db"));
        }

        var server = new NpgsqlConnectionStringBuilder(postgresServer ?? throw new InvalidOperationException("PostgreSQL is needed: set BRIDGE_TEST_POSTGRES (chaos.sh does)."));
        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync(ct);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{databaseName}\"", connection);
            await create.ExecuteNonQueryAsync(ct);
        }

        return new PostgresProbe(server, databaseName);
    }

    public async Task<long> PendingOutboxAsync(CancellationToken ct) =>
        Convert.ToInt64(await ScalarAsync($"SELECT COUNT(*) FROM {Table("outbox_messages")} WHERE dispatched_at IS NULL", ct), CultureInfo.InvariantCulture);

    public async Task<IReadOnlyList<LiveClaim>> LiveClaimsAsync(CancellationToken ct) =>
        await ClaimsAsync("claimed_by IS NOT NULL AND claim_expires_at > @now", null, ct);

    /// <summary>The claims the process with <paramref name="processId"/> holds (Bridge's claim owners read <c>machine:pid:guid</c>).</summary>
    public async Task<IReadOnlyList<HeldClaim>> ClaimsHeldByAsync(int processId, CancellationToken ct) =>
        [.. (await ClaimsAsync("claimed_by LIKE @owner AND claim_expires_at > @now", $"%:{processId.ToString(CultureInfo.InvariantCulture)}:%", ct))
            .Select(c => new HeldClaim(c.Scope, c.DocumentKey, c.ExpiresAt))];

    public abstract Task DropAsync(CancellationToken ct);

    protected abstract string Table(string name);

    protected abstract DbConnection Connect();

    protected abstract object Now();

    protected abstract DateTimeOffset ReadTime(object value);

    private async Task<object?> ScalarAsync(string sql, CancellationToken ct)
    {
        await using var connection = Connect();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(ct);
    }

    private async Task<IReadOnlyList<LiveClaim>> ClaimsAsync(string where, string? owner, CancellationToken ct)
    {
        await using var connection = Connect();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT scope, document_key, claimed_by, claim_expires_at FROM {Table("document_states")} WHERE {where}";
        var now = command.CreateParameter();
        now.ParameterName = "now";
        now.Value = Now();
        command.Parameters.Add(now);
        if (owner is not null)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "owner";
            parameter.Value = owner;
            command.Parameters.Add(parameter);
        }

        var claims = new List<LiveClaim>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            claims.Add(new LiveClaim(reader.GetString(0), reader.GetString(1), reader.GetString(2), ReadTime(reader.GetValue(3))));
        }

        return claims;
    }

    private sealed class PostgresProbe(NpgsqlConnectionStringBuilder server, string database) : StorageProbe
    {
        private readonly string _connectionString = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = database }.ConnectionString;

        public override StorageKind Kind => StorageKind.PostgreSql;

        public override string ConnectionString => _connectionString;

        public override async Task DropAsync(CancellationToken ct)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(server.ConnectionString);
            await connection.OpenAsync(ct);
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync(ct);
        }

        protected override string Table(string name) => "bridge." + name;

        protected override DbConnection Connect() => new NpgsqlConnection(_connectionString);

        protected override object Now() => DateTimeOffset.UtcNow;

        protected override DateTimeOffset ReadTime(object value) => value switch
        {
            DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
            DateTimeOffset offset => offset,
            _ => DateTimeOffset.MinValue,
        };
    }

    private sealed class SqliteProbe(string file) : StorageProbe
    {
        private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

        public override StorageKind Kind => StorageKind.Sqlite;

        public override string ConnectionString => $"Data Source={file}";

        public override Task DropAsync(CancellationToken ct)
        {
            SqliteConnection.ClearAllPools();
            return Task.CompletedTask;
        }

        protected override string Table(string name) => name;

        protected override DbConnection Connect() => new SqliteConnection($"Data Source={file};Mode=ReadOnly;Default Timeout=30");

        protected override object Now() => DateTimeOffset.UtcNow.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

        protected override DateTimeOffset ReadTime(object value) =>
            DateTimeOffset.TryParse(value as string, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : DateTimeOffset.MinValue;
    }
}
