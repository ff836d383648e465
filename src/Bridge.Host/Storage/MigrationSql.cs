namespace Bridge.Host.Storage;

/// <summary>
/// The migration runner's own statements, the three dialects side by side: its bookkeeping table and lock around the
/// versioned scripts under <c>Migrations/</c>.
/// </summary>
public sealed class MigrationSql
{
    /// <summary>Creates the <c>bridge</c> schema if missing; null where the dialect has no schemas (SQLite).</summary>
    /// <remarks>A command of its own: SQL Server resolves a batch's schema names before running any of it.</remarks>
    public required string? EnsureSchema { get; init; }

    /// <summary>Creates <c>schema_versions</c> if it is missing.</summary>
    public required string EnsureTable { get; init; }

    /// <summary>Serializes migration runners until the transaction ends; null where the transaction itself does (SQLite).</summary>
    public required string? AcquireLock { get; init; }

    public required string SelectApplied { get; init; }

    public required string Insert { get; init; }

    public static MigrationSql For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.PostgreSql => PostgreSql,
        SqlDialect.Sqlite => Sqlite,
        SqlDialect.SqlServer => SqlServer,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect."),
    };

    private static readonly MigrationSql PostgreSql = new()
    {
        EnsureSchema = "CREATE SCHEMA IF NOT EXISTS bridge;",

        EnsureTable = """
            CREATE TABLE IF NOT EXISTS bridge.schema_versions
            (
                script_name varchar(255) NOT NULL CONSTRAINT pk_schema_versions PRIMARY KEY,
                applied_at  timestamptz  NOT NULL
            );
            """,

        // Transaction-scoped, so commit or rollback (or the runner's connection dying) releases it. Concurrent
        // CREATE ... IF NOT EXISTS is not race-free in PostgreSQL, which is why even the bootstrap runs under it.
        AcquireLock = "SELECT pg_advisory_xact_lock(hashtext('bridge.migrations'));",

        SelectApplied = "SELECT script_name FROM bridge.schema_versions;",

        Insert = "INSERT INTO bridge.schema_versions (script_name, applied_at) VALUES (@ScriptName, @AppliedAt);",
    };

    private static readonly MigrationSql Sqlite = new()
    {
        EnsureSchema = null,

        EnsureTable = """
            CREATE TABLE IF NOT EXISTS schema_versions
            (
                script_name TEXT NOT NULL CONSTRAINT pk_schema_versions PRIMARY KEY,
                applied_at  TEXT NOT NULL
            );
            """,

        // The runner's BEGIN IMMEDIATE transaction already excludes every other writer.
        AcquireLock = null,

        SelectApplied = "SELECT script_name FROM schema_versions;",

        Insert = "INSERT INTO schema_versions (script_name, applied_at) VALUES (@ScriptName, @AppliedAt);",
    };

    private static readonly MigrationSql SqlServer = new()
    {
        // CREATE SCHEMA must be alone in its batch, hence EXEC.
        EnsureSchema = """
            IF SCHEMA_ID(N'bridge') IS NULL
                EXEC (N'CREATE SCHEMA bridge');
            """,

        EnsureTable = """
            IF OBJECT_ID(N'bridge.schema_versions', N'U') IS NULL
                CREATE TABLE bridge.schema_versions
                (
                    script_name nvarchar(255)     NOT NULL CONSTRAINT pk_schema_versions PRIMARY KEY,
                    applied_at  datetimeoffset(7) NOT NULL
                );
            """,

        // Owned by the transaction, so the lock is released by commit or rollback even if the runner dies.
        AcquireLock = """
            DECLARE @lock_result int;
            EXEC @lock_result = sp_getapplock
                @Resource = N'bridge.migrations',
                @LockMode = N'Exclusive',
                @LockOwner = N'Transaction',
                @LockTimeout = 120000;
            IF @lock_result < 0
                THROW 50000, N'Timed out waiting for another instance to finish migrating the Bridge database.', 1;
            """,

        SelectApplied = "SELECT script_name FROM bridge.schema_versions;",

        Insert = "INSERT INTO bridge.schema_versions (script_name, applied_at) VALUES (@ScriptName, @AppliedAt);",
    };
}
