using System.ComponentModel.DataAnnotations;
using Bridge.ActivePlatform;
using Bridge.Host.Storage;
using Dapper;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Hosting;

/// <summary>Section <c>Bridge:Instances</c>: how each instance tells the others it is alive.</summary>
public sealed class InstanceOptions
{
    public const string Section = "Bridge:Instances";

    /// <summary>How often an instance renews its lease and counts the live instances.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an instance counts as alive after its last heartbeat (by the database's clock).</summary>
    [Range(typeof(TimeSpan), "00:00:00.300", "00:15:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// The live Bridge instances of an installation, in the database (<c>bridge.instances</c>): each renews a lease on its own
/// row every <see cref="InstanceOptions.HeartbeatInterval"/> (judged by the database's clock) and counts the rows still
/// leased, so that what belongs to the installation — the rate limit toward ActivePlatform — is shared among them
/// (<see cref="IActivePlatformRateShare"/>). A stopping instance removes its row; a dead one's lease runs out. Until the first
/// count, and whenever the database cannot be read, an instance keeps the last count it had (alone at first).
/// </summary>
public sealed partial class InstanceRegistry(
    IBridgeDatabase database,
    IOptions<InstanceOptions> options,
    TimeProvider clock,
    ILogger<InstanceRegistry> logger) : PeriodicMaintenance(clock, logger), IActivePlatformRateShare
{
    /// <summary>This instance (host/process/random: two Bridges in one process are two instances), as replay jobs name it too.</summary>
    public string Id { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    private readonly InstanceSql sql = InstanceSql.For(database.Dialect);
    private readonly DateTimeOffset startedAt = clock.GetUtcNow();
    private int instances = 1;

    public int Instances => Volatile.Read(ref instances);

    protected override TimeSpan Tick => options.Value.HeartbeatInterval;

    protected override TimeSpan PurgeEvery => TimeSpan.FromMinutes(10);

    protected override string What => "Instance registry";

    /// <summary>Renews this instance's lease and counts the live instances; returns the count.</summary>
    public async Task<int> HeartbeatAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            sql.Heartbeat,
            new
            {
                Id,
                StartedAt = SqlValues.Timestamp(database.Dialect, startedAt),
                LeaseMilliseconds = (long)options.Value.Lease.TotalMilliseconds,
            },
            cancellationToken: cancellationToken));
        var live = Convert.ToInt32(await connection.ExecuteScalarAsync(new CommandDefinition(sql.CountLive, cancellationToken: cancellationToken)), System.Globalization.CultureInfo.InvariantCulture);
        var previous = Interlocked.Exchange(ref instances, Math.Max(1, live));
        if (previous != Math.Max(1, live))
        {
            LogInstances(logger, Math.Max(1, live), previous);
        }

        return live;
    }

    protected override async Task EveryTickAsync(CancellationToken cancellationToken) => await HeartbeatAsync(cancellationToken);

    /// <summary>
    /// On SQLite, refuses to start while a Bridge on another host is live on the same database file: SQLite serves the
    /// processes of one host. Its leases and waits are judged by "the database's clock", which for SQLite is each process's
    /// own — across hosts, two clocks — and its file locking is not reliable over a network share; a second host would
    /// break the claims that keep one message's effect from being sent twice. More than one host needs PostgreSQL or SQL
    /// Server.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (database.Dialect == SqlDialect.Sqlite)
        {
            IReadOnlyList<string> live;
            try
            {
                await using var connection = await database.OpenAsync(cancellationToken);
                live = [.. await connection.QueryAsync<string>(new CommandDefinition(sql.ListLive, cancellationToken: cancellationToken))];
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex) when (ex.Message.Contains("no such table", StringComparison.Ordinal))
            {
                live = []; // a database older than the registry: no instance has registered on it
            }

            var host = HostOf(Id);
            if (live.Where(other => !string.Equals(HostOf(other), host, StringComparison.OrdinalIgnoreCase)).ToList() is { Count: > 0 } elsewhere)
            {
                throw new InvalidOperationException(
                    $"Bridge:Storage: this SQLite database is in use by a Bridge on another host ({string.Join(", ", elsewhere.Select(HostOf).Distinct(StringComparer.OrdinalIgnoreCase))}), and this is host {host}. "
                    + "SQLite serves the Bridge processes of one host only (its leases are judged by each process's own clock, and file locking over a network share is unreliable): "
                    + "run every instance on one host, or use PostgreSQL or SQL Server (Bridge:Storage:Provider). An instance that died stays registered for its lease ("
                    + options.Value.Lease.ToString("c", System.Globalization.CultureInfo.InvariantCulture) + ").");
            }
        }

        await base.StartAsync(cancellationToken);
    }

    private static string HostOf(string instanceId) => instanceId.Split('/')[0];

    protected override async Task PurgeOnceAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(sql.RemoveExpired, cancellationToken: cancellationToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            // The others count one fewer at their next heartbeat instead of after the lease.
            await using var connection = await database.OpenAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(sql.Remove, new { Id }, cancellationToken: cancellationToken));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogNotRemoved(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Instances} Bridge instances are live (were {Previous}): each takes its share of what the installation shares")]
    private static partial void LogInstances(ILogger logger, int instances, int previous);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This instance's registration could not be removed; the others count it until its lease runs out")]
    private static partial void LogNotRemoved(ILogger logger, Exception exception);
}

/// <summary>The instance registry's statements, the three dialects side by side; leases by the database's clock.</summary>
public sealed record InstanceSql(string Heartbeat, string CountLive, string Remove, string RemoveExpired, string ListLive)
{
    public static InstanceSql For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.PostgreSql => PostgreSql,
        SqlDialect.SqlServer => SqlServer,
        SqlDialect.Sqlite => Sqlite,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, null),
    };

    public static InstanceSql PostgreSql { get; } = new(
        Heartbeat: """
            INSERT INTO bridge.instances (id, started_at, lease_expires_at)
            VALUES (@Id, @StartedAt, statement_timestamp() + @LeaseMilliseconds * interval '1 millisecond')
            ON CONFLICT (id) DO UPDATE SET lease_expires_at = EXCLUDED.lease_expires_at;
            """,
        CountLive: "SELECT COUNT(*) FROM bridge.instances WHERE lease_expires_at > statement_timestamp();",
        Remove: "DELETE FROM bridge.instances WHERE id = @Id;",
        RemoveExpired: "DELETE FROM bridge.instances WHERE lease_expires_at < statement_timestamp();",
        ListLive: "SELECT id FROM bridge.instances WHERE lease_expires_at > statement_timestamp();");

    public static InstanceSql SqlServer { get; } = new(
        Heartbeat: """
            UPDATE bridge.instances
            SET lease_expires_at = DATEADD(millisecond, @LeaseMilliseconds % 1000, DATEADD(second, @LeaseMilliseconds / 1000, SYSUTCDATETIME()))
            WHERE id = @Id;
            IF @@ROWCOUNT = 0
                INSERT INTO bridge.instances (id, started_at, lease_expires_at)
                VALUES (@Id, @StartedAt, DATEADD(millisecond, @LeaseMilliseconds % 1000, DATEADD(second, @LeaseMilliseconds / 1000, SYSUTCDATETIME())));
            """,
        CountLive: "SELECT COUNT(*) FROM bridge.instances WHERE lease_expires_at > SYSUTCDATETIME();",
        Remove: "DELETE FROM bridge.instances WHERE id = @Id;",
        RemoveExpired: "DELETE FROM bridge.instances WHERE lease_expires_at < SYSUTCDATETIME();",
        ListLive: "SELECT id FROM bridge.instances WHERE lease_expires_at > SYSUTCDATETIME();");

    private const string SqliteNow = "strftime('%Y-%m-%dT%H:%M:%f0000Z', 'now')";

    private const string SqliteNowPlusLease = "strftime('%Y-%m-%dT%H:%M:%f0000Z', 'now', (@LeaseMilliseconds / 1000.0) || ' seconds')";

    public static InstanceSql Sqlite { get; } = new(
        Heartbeat: $"""
            INSERT INTO instances (id, started_at, lease_expires_at) VALUES (@Id, @StartedAt, {SqliteNowPlusLease})
            ON CONFLICT (id) DO UPDATE SET lease_expires_at = excluded.lease_expires_at;
            """,
        CountLive: $"SELECT COUNT(*) FROM instances WHERE lease_expires_at > {SqliteNow};",
        Remove: "DELETE FROM instances WHERE id = @Id;",
        RemoveExpired: $"DELETE FROM instances WHERE lease_expires_at < {SqliteNow};",
        ListLive: $"SELECT id FROM instances WHERE lease_expires_at > {SqliteNow};");
}
