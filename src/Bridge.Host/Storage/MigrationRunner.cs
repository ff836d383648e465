using System.Data.Common;
using System.Reflection;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.Logging;

namespace Bridge.Host.Storage;

/// <summary>One versioned SQL script embedded in the service, e.g. <c>0001_initial.sql</c>.</summary>
public sealed record MigrationScript(string Name, string Sql);

/// <summary>
/// Applies the embedded scripts of one dialect in name order, each in its own transaction together with its row in
/// <c>schema_versions</c>, under a lock that makes concurrent runners (several instances starting at once) take turns.
/// </summary>
public sealed partial class MigrationRunner(IBridgeDatabase database, TimeProvider timeProvider, ILogger logger)
{
    private const string ResourceFolder = ".Storage.Migrations.";

    /// <summary>Applies every pending script; returns the names of those this call applied.</summary>
    public async Task<IReadOnlyList<string>> RunAsync(CancellationToken cancellationToken)
    {
        var statements = MigrationSql.For(database.Dialect);
        var scripts = LoadScripts(database.Dialect);
        var applied = new List<string>();

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var script in scripts)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            if (statements.AcquireLock is { } acquireLock)
            {
                await ExecuteAsync(connection, transaction, acquireLock, null, cancellationToken).ConfigureAwait(false);
            }

            // Under the lock, so the runner that was waiting sees what the one before it applied.
            if (statements.EnsureSchema is { } ensureSchema)
            {
                await ExecuteAsync(connection, transaction, ensureSchema, null, cancellationToken).ConfigureAwait(false);
            }

            await ExecuteAsync(connection, transaction, statements.EnsureTable, null, cancellationToken).ConfigureAwait(false);
            var done = await connection.QueryAsync<string>(new CommandDefinition(
                statements.SelectApplied, transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (done.Contains(script.Name, StringComparer.Ordinal))
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            await ExecuteAsync(connection, transaction, script.Sql, null, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(
                connection,
                transaction,
                statements.Insert,
                new { ScriptName = script.Name, AppliedAt = SqlValues.Timestamp(database.Dialect, timeProvider.GetUtcNow()) },
                cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            applied.Add(script.Name);
            LogApplied(logger, script.Name, database.Dialect);
        }

        return applied;
    }

    /// <summary>
    /// The embedded scripts not yet applied, read without changing anything (no lock, no table created): every script when
    /// the migration table cannot be read, e.g. on a database never migrated.
    /// </summary>
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken cancellationToken)
    {
        var statements = MigrationSql.For(database.Dialect);
        var scripts = LoadScripts(database.Dialect).Select(script => script.Name).ToList();
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var done = (await connection.QueryAsync<string>(new CommandDefinition(statements.SelectApplied, cancellationToken: cancellationToken)).ConfigureAwait(false))
                .ToHashSet(StringComparer.Ordinal);
            return scripts.Where(name => !done.Contains(name)).ToList();
        }
        catch (DbException ex) when (!StorageMigrationService.IsUnreachable(ex))
        {
            LogMigrationTableUnreadable(logger, database.Dialect, ex.Message);
            return scripts;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Dialect} migration table cannot be read ({Reason}); counting every migration as pending")]
    private static partial void LogMigrationTableUnreadable(ILogger logger, SqlDialect dialect, string reason);

    /// <summary>The embedded scripts of <paramref name="dialect"/>, in the order they apply.</summary>
    public static IReadOnlyList<MigrationScript> LoadScripts(SqlDialect dialect)
    {
        var assembly = typeof(MigrationRunner).Assembly;
        var prefix = ResourceFolder + FolderName(dialect) + ".";
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var at = resource.IndexOf(prefix, StringComparison.Ordinal);
            if (at < 0 || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var name = resource[(at + prefix.Length)..];
            var sql = ReadResource(assembly, resource);

            // The whole script goes to the server as one command; a GO line would be a syntax error there.
            if (dialect == SqlDialect.SqlServer && GoSeparator().IsMatch(sql))
            {
                throw new InvalidOperationException($"Migration {name} contains a GO separator; SQL Server scripts must be one batch.");
            }

            scripts.Add(new MigrationScript(name, sql));
        }

        if (scripts.Count == 0)
        {
            throw new InvalidOperationException($"No migration scripts are embedded for {dialect}.");
        }

        scripts.Sort((left, right) => string.CompareOrdinal(left.Name, right.Name));
        return scripts;
    }

    private static string FolderName(SqlDialect dialect) => dialect switch
    {
        SqlDialect.SqlServer => "sqlserver",
        SqlDialect.PostgreSql => "postgresql",
        SqlDialect.Sqlite => "sqlite",
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect."),
    };

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded resource {resource} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static Task<int> ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, object? parameters, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken));

    [GeneratedRegex(@"^\s*GO\s*$", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex GoSeparator();

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Script} ({Dialect})")]
    private static partial void LogApplied(ILogger logger, string script, SqlDialect dialect);
}
