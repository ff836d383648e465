using Bridge.Host.Storage;

namespace Bridge.Host.Effects;

/// <summary>
/// The effect journal's statements per dialect. Every time is the database's own (<c>clock_timestamp()</c>,
/// <c>SYSDATETIMEOFFSET()</c>, SQLite's <c>strftime(..., 'now')</c>), and "how long since sent" is computed by the database,
/// so no instance's clock judges how long an outcome has been unknown.
/// </summary>
public sealed class EffectJournalSql
{
    public required string SelectById { get; init; }

    public required string SelectOpen { get; init; }

    /// <summary>Makes a <c>NotApplied</c> effect <c>Sending</c> again for a new attempt; affects no row otherwise.</summary>
    public required string Restart { get; init; }

    public required string Insert { get; init; }

    public required string SetAsyncTask { get; init; }

    /// <summary>
    /// Closes the open attempt; also succeeds, changing nothing of substance, when that same attempt was already closed in the
    /// same state (the answer recorded at once, then again with the message's commit).
    /// </summary>
    public required string Resolve { get; init; }

    /// <summary>Counts applied effects of the scope, other than <c>@EffectId</c>, that own <c>@ResourceId</c>.</summary>
    public required string CountOwners { get; init; }

    public static EffectJournalSql For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.PostgreSql => PostgreSql,
        SqlDialect.Sqlite => Sqlite,
        SqlDialect.SqlServer => SqlServer,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect."),
    };

    private const string Columns = """
        scope AS Scope, effect_key AS EffectKey, group_key AS GroupKey, owner_key AS OwnerKey, fingerprint AS Fingerprint,
        attempt_id AS AttemptId, state AS State, async_task_id AS AsyncTaskId, evidence AS Evidence, resource_id AS ResourceId, sent_at AS SentAt
        """;

    private static EffectJournalSql Build(string table, string now, string sinceSentMs, string openTrue, string openFalse) => new()
    {
        SelectById = $"SELECT {Columns}, {sinceSentMs} AS SinceSentMs FROM {table} WHERE effect_id = @EffectId;",
        SelectOpen = $"SELECT {Columns}, {sinceSentMs} AS SinceSentMs FROM {table} WHERE scope = @Scope AND group_key = @GroupKey AND is_open = {openTrue};",
        Restart = $"""
            UPDATE {table}
            SET state = 'Sending', is_open = {openTrue}, owner_key = @OwnerKey, attempt_id = @AttemptId, fingerprint = @Fingerprint, evidence = @Evidence,
                async_task_id = NULL, resource_id = NULL, sent_at = {now}, updated_at = {now}
            WHERE effect_id = @EffectId AND state = 'NotApplied';
            """,
        Insert = $"""
            INSERT INTO {table}
                (effect_id, scope, effect_key, group_key, owner_key, attempt_id, fingerprint, state, is_open, evidence, sent_at, updated_at)
            VALUES (@EffectId, @Scope, @EffectKey, @GroupKey, @OwnerKey, @AttemptId, @Fingerprint, 'Sending', {openTrue}, @Evidence, {now}, {now});
            """,
        SetAsyncTask = $"""
            UPDATE {table}
            SET state = 'AsyncTask', async_task_id = @AsyncTaskId, updated_at = {now}
            WHERE effect_id = @EffectId AND attempt_id = @AttemptId AND is_open = {openTrue};
            """,
        Resolve = $"""
            UPDATE {table}
            SET state = @State, is_open = {openFalse}, resource_id = COALESCE(@ResourceId, resource_id),
                evidence = COALESCE(@Evidence, evidence), updated_at = {now}
            WHERE effect_id = @EffectId AND attempt_id = @AttemptId AND (is_open = {openTrue} OR state = @State);
            """,
        CountOwners = $"SELECT COUNT(*) FROM {table} WHERE scope = @Scope AND resource_id = @ResourceId AND state = 'Applied' AND effect_id <> @EffectId;",
    };

    private static readonly EffectJournalSql PostgreSql = Build(
        "bridge.effect_journal",
        "clock_timestamp()",
        "CAST(EXTRACT(EPOCH FROM (clock_timestamp() - sent_at)) * 1000 AS bigint)",
        "true",
        "false");

    private static readonly EffectJournalSql Sqlite = Build(
        "effect_journal",
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        "CAST((julianday('now') - julianday(sent_at)) * 86400000 AS INTEGER)",
        "1",
        "0");

    private static readonly EffectJournalSql SqlServer = Build(
        "bridge.effect_journal",
        "SYSDATETIMEOFFSET()",
        "DATEDIFF_BIG(millisecond, sent_at, SYSDATETIMEOFFSET())",
        "1",
        "0");

    /// <summary>Every statement of every dialect, for the SQL Server parse test and reviews.</summary>
    public static IEnumerable<(SqlDialect Dialect, string Name, string Text)> All()
    {
        foreach (var dialect in new[] { SqlDialect.SqlServer, SqlDialect.PostgreSql, SqlDialect.Sqlite })
        {
            var s = For(dialect);
            yield return (dialect, nameof(SelectById), s.SelectById);
            yield return (dialect, nameof(SelectOpen), s.SelectOpen);
            yield return (dialect, nameof(Restart), s.Restart);
            yield return (dialect, nameof(Insert), s.Insert);
            yield return (dialect, nameof(SetAsyncTask), s.SetAsyncTask);
            yield return (dialect, nameof(Resolve), s.Resolve);
            yield return (dialect, nameof(CountOwners), s.CountOwners);
        }
    }
}
