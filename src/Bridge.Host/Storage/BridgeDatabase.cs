using System.Data.Common;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Bridge.Host.Storage;

/// <summary>
/// Opens connections for the configured dialect. Holds the connection string but never shows it: it may carry a password.
/// </summary>
public sealed class BridgeDatabase : IBridgeDatabase, IAsyncDisposable, IDisposable
{
    private readonly string connectionString;
    private readonly NpgsqlDataSource? postgres;
    private readonly NpgsqlDataSource? postgresForLeases;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;

    public BridgeDatabase(StorageOptions options, TimeProvider? timeProvider = null, ILogger<BridgeDatabase>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException($"{StorageOptions.Section}:ConnectionString is empty.", nameof(options));
        }

        Dialect = options.Provider;
        PurgeBatchSize = options.PurgeBatchSize is >= 1 and <= StorageOptions.MaxPurgeBatchSize
            ? options.PurgeBatchSize
            : throw new ArgumentOutOfRangeException(nameof(options), $"{StorageOptions.Section}:PurgeBatchSize must be between 1 and {StorageOptions.MaxPurgeBatchSize}.");
        connectionString = options.ConnectionString;
        this.timeProvider = timeProvider ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        if (Dialect == SqlDialect.PostgreSql)
        {
            // No DISCARD ALL when a connection goes back to the pool (8 of them per message, each a statement the server runs):
            // Bridge sets no session state — no SET, temporary table, LISTEN or session advisory lock; the relaxed commits are
            // a startup option of a pool of their own — and an open transaction is still rolled back on return.
            var durable = new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true };
            if (!Names(connectionString, "Max Auto Prepare"))
            {
                // Each hot statement is parsed and planned once per connection, not at every execution: the parse and plan
                // were a third of PostgreSQL's CPU per message (issue 8). Bridge names the columns it reads, so an added column
                // changes no prepared statement; a migration that changes a returned column's type (0012 did) makes each
                // statement prepared before it fail once per connection — DatabaseFailures counts that as a blip, retried
                // like one, and Npgsql prepares it anew. A connection string that sets it (0 behind a pooler in transaction
                // mode that cannot keep prepared statements) is left as it is.
                durable.MaxAutoPrepare = DefaultMaxAutoPrepare;
            }

            postgres = NpgsqlDataSource.Create(durable.ConnectionString);
            var forLeases = new NpgsqlConnectionStringBuilder(durable.ConnectionString);
            forLeases.Options = $"{forLeases.Options} -c synchronous_commit=off".Trim();
            postgresForLeases = NpgsqlDataSource.Create(forLeases.ConnectionString);
        }
    }

    /// <summary>How many statements each PostgreSQL connection keeps prepared, unless the connection string says otherwise.</summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>Whether <paramref name="connectionString"/> sets <paramref name="keyword"/> (spaces and case aside).</summary>
    private static bool Names(string connectionString, string keyword)
    {
        var wanted = keyword.Replace(" ", "", StringComparison.Ordinal);
        return new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys
            .Cast<string>()
            .Any(key => string.Equals(key.Replace(" ", "", StringComparison.Ordinal), wanted, StringComparison.OrdinalIgnoreCase));
    }

    public SqlDialect Dialect { get; }

    public int PurgeBatchSize { get; }

    public Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => OpenAsync(durable: true, cancellationToken);

    public Task<DbConnection> OpenForLeasesAsync(CancellationToken cancellationToken) => OpenAsync(durable: false, cancellationToken);

    private async Task<DbConnection> OpenAsync(bool durable, CancellationToken cancellationToken)
    {
        DbConnection connection = Dialect switch
        {
            SqlDialect.SqlServer => new SqlConnection(connectionString),
            SqlDialect.PostgreSql => (durable ? postgres : postgresForLeases)!.CreateConnection(),
            SqlDialect.Sqlite => new SqliteConnection(connectionString),
            _ => throw new InvalidOperationException($"Unknown SQL dialect {Dialect}."),
        };

        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (Dialect == SqlDialect.Sqlite)
            {
                await ConfigureSqliteAsync(connection, durable, cancellationToken).ConfigureAwait(false);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task MigrateAsync(CancellationToken cancellationToken) =>
        new MigrationRunner(this, timeProvider, logger).RunAsync(cancellationToken);

    public override string ToString() => $"BridgeDatabase({Dialect})";

    public async ValueTask DisposeAsync()
    {
        if (postgres is not null)
        {
            await postgres.DisposeAsync().ConfigureAwait(false);
            await postgresForLeases!.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        postgres?.Dispose();
        postgresForLeases?.Dispose();
    }

    // busy_timeout first, so the journal-mode switch itself waits for a writer instead of failing. WAL lets readers
    // run beside the one writer; it is a property of the file, so switching again is a no-op. synchronous is the
    // connection's, and a pooled connection keeps it: set on every open, FULL (the WAL synced at each commit) unless the
    // connection is for leases.
    private static async Task ConfigureSqliteAsync(DbConnection connection, bool durable, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
            + (durable ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
