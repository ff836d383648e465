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

    /// <summary>The group's open effect (<c>Role</c> 1) and the effect by id (<c>Role</c> 2): up to two rows, one round trip.</summary>
    public required string SelectOpenAndById { get; init; }

    /// <summary>
    /// Makes a <c>NotApplied</c> effect <c>Sending</c> again for a new attempt, with the sender's in-flight window and polling
    /// deadline (<c>@SendWindowMs</c>, <c>@TaskDeadlineMs</c>, as <see cref="Insert"/>), unless an edit holds the owner's key;
    /// affects no row otherwise.
    /// </summary>
    public required string Restart { get; init; }

    /// <summary>
    /// Records a new effect as <c>Sending</c>, with the sending instance's in-flight window and polling deadline
    /// (<c>@SendWindowMs</c>, <c>@TaskDeadlineMs</c>; null when unknown), by which any instance settling it waits at least;
    /// affects no row when the effect is already in the journal (in any state) or an edit of a dead letter holds the owner's
    /// key (<see cref="IdempotencySql.SelectEditHold"/>), and
    /// fails on the one-open-per-group index while another effect of its group is unresolved (and on the primary key when a
    /// racing insert of the same effect won).
    /// </summary>
    public required string Insert { get; init; }

    /// <summary>
    /// The document store's claim renewal (<see cref="DocumentStateSql.Renew"/>) with its parameters named
    /// <c>@ClaimScope</c>, <c>@ClaimDocumentKey</c>, <c>@ClaimOwner</c> and <c>@ClaimLeaseMilliseconds</c>, so that it can
    /// share a command, or parameters, with the journal's own <c>@Scope</c>: the fence of a claimed document's effect.
    /// </summary>
    public required string ClaimRenew { get; init; }


    /// <summary>
    /// PostgreSQL only (null elsewhere): <see cref="Insert"/> and <see cref="Restart"/>, each as one statement with
    /// <see cref="ClaimRenew"/>, the write running only when the renewal held, answering both row counts (<c>Renewed</c>,
    /// <c>Written</c>).
    /// </summary>
    public FencedWrites? FencedBegin { get; init; }

    public sealed record FencedWrites(string Insert, string Restart);

    public required string SetAsyncTask { get; init; }

    /// <summary>Moves the send time of the open attempt <c>@AttemptId</c> (still <c>Sending</c>) to now; affects no row otherwise.</summary>
    public required string StampSend { get; init; }

    /// <summary>
    /// Records, as open (<c>@State</c>: <c>Sending</c> or <c>AsyncTask</c>), an effect an older Bridge sent before the
    /// journal existed, with the time it was sent (<c>@SentAt</c>) as that Bridge recorded it. Fails on the primary key when
    /// it was adopted before, and on the one-open-per-group index while another effect of its group is unresolved.
    /// </summary>
    public required string Adopt { get; init; }

    /// <summary>
    /// Closes the open attempt; also succeeds, changing nothing of substance, when that same attempt was already closed in the
    /// same state (the answer recorded at once, then again with the message's commit).
    /// </summary>
    public required string Resolve { get; init; }

    /// <summary>
    /// Closes the open attempt as <c>NotApplied</c> only while at least <c>@WindowMs</c> have passed since its send time as
    /// it stands now (by the database's clock); affects no row when the attempt was closed meanwhile or its send time moved.
    /// </summary>
    public required string ResolveUnlanded { get; init; }

    /// <summary>Counts applied effects of the scope, other than <c>@EffectId</c>, that own <c>@ResourceId</c>.</summary>
    public required string CountOwners { get; init; }

    /// <summary>
    /// Effects for operators, oldest send first, a page at a time: those in <c>@State</c>, or with no state named, the ones
    /// that need attention — every <c>Unknown</c> one and every open one sent at least <c>@OpenOlderThanMs</c> ago.
    /// </summary>
    public required string Query { get; init; }

    public required string QueryCount { get; init; }

    /// <summary>One effect by id, in whatever state, with when it last changed.</summary>
    public required string SelectDetails { get; init; }

    /// <summary>
    /// An operator's resolution: applies only while the row is still in <c>@FromState</c> with attempt <c>@AttemptId</c>, and
    /// is either <c>Unknown</c> or open, sent at least <c>@OpenResolvableAfterMs</c> ago (by the database's clock) — an
    /// <c>Unknown</c> one resolved as <c>Applied</c> at any time, since that sends nothing again — so of two racing
    /// resolutions (or a resolution racing a delivery that settles the effect) exactly one applies, and "not applied" is
    /// never recorded while the send may still be carried out.
    /// </summary>
    public required string OperatorResolve { get; init; }

    public required string AuditInsert { get; init; }

    public required string AuditSelect { get; init; }

    /// <summary>
    /// Deletes at most <c>@BatchSize</c> resolved (<c>Applied</c>, <c>NotApplied</c>) rows last changed before <c>@OlderThan</c>, with
    /// their audit — never an applied one whose owner's key a dead letter holds: it is what refuses an edit of that letter
    /// (the edit would be a second effect), however long the letter waits.
    /// </summary>
    public required string Purge { get; init; }

    /// <summary>How many effects are <c>Unknown</c>, how many are open, and how long ago (ms, database clock) the oldest open one was sent.</summary>
    public required string Health { get; init; }

    public static EffectJournalSql For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.PostgreSql => PostgreSql,
        SqlDialect.Sqlite => Sqlite,
        SqlDialect.SqlServer => SqlServer,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect."),
    };

    private const string Columns = """
        scope AS Scope, effect_key AS EffectKey, group_key AS GroupKey, owner_key AS OwnerKey, fingerprint AS Fingerprint,
        attempt_id AS AttemptId, state AS State, async_task_id AS AsyncTaskId, evidence AS Evidence, resource_id AS ResourceId, sent_at AS SentAt,
        send_window_ms AS SendWindowMs, task_deadline_ms AS TaskDeadlineMs
        """;

    private const string AdminColumns = "effect_id AS EffectId, updated_at AS UpdatedAt";

    private static string Filter(string sinceSentMs, string openTrue, Func<string, string> text) => $"""
        WHERE ((({text("@State")}) IS NULL AND (state = 'Unknown' OR (is_open = {openTrue} AND {sinceSentMs} >= @OpenOlderThanMs)))
               OR state = @State)
          AND (({text("@Scope")}) IS NULL OR scope = @Scope)
          AND (({text("@EffectKey")}) IS NULL OR effect_key = @EffectKey)
          AND (({text("@GroupKey")}) IS NULL OR group_key = @GroupKey)
          AND (({text("@OwnerKey")}) IS NULL OR owner_key = @OwnerKey)
        """;

    /// <summary>The document store's renewal, its parameters renamed (see <see cref="ClaimRenew"/>).</summary>
    private static string ClaimRenewOf(SqlDialect dialect)
    {
        var renew = DocumentStateSql.For(dialect).Renew.Replace("@", "@Claim", StringComparison.Ordinal);
        string[] expected = ["@ClaimScope", "@ClaimDocumentKey", "@ClaimOwner", "@ClaimLeaseMilliseconds"];
        return expected.All(name => renew.Contains(name, StringComparison.Ordinal))
            ? renew
            : throw new InvalidOperationException("The claim's renewal no longer takes @Scope, @DocumentKey, @Owner and @LeaseMilliseconds; compose the journal's fence anew.");
    }

    /// <summary>PostgreSQL: the renewal and a journal write as one statement, the write guarded by the renewal's row.</summary>
    private static FencedWrites Fenced(string claimRenew, string insert, string restart)
    {
        static string Bare(string sql) => sql.TrimEnd().TrimEnd(';');
        var renew = Bare(claimRenew);
        if (!renew.EndsWith("claimed_by = @ClaimOwner", StringComparison.Ordinal)
            || !Bare(insert).EndsWith("WHERE effect_id = @EffectId)", StringComparison.Ordinal)
            || !Bare(restart).EndsWith("state = 'NotApplied'", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The claim's renewal or the journal's insert or restart no longer ends with its WHERE clause; compose the fence anew.");
        }

        // The write reads the renewal's row, so the renewal runs first; when it matched nothing the write touches nothing.
        string With(string write) => $"""
            WITH renewed AS ({renew} RETURNING 1),
                 written AS ({Bare(write)} AND EXISTS (SELECT 1 FROM renewed) RETURNING 1)
            SELECT (SELECT COUNT(*) FROM renewed) AS Renewed, (SELECT COUNT(*) FROM written) AS Written;
            """;
        return new FencedWrites(With(insert), With(restart));
    }

    /// <summary>
    /// The condition every begin (<see cref="Insert"/>, <see cref="Restart"/>) is written under: no edit of a dead letter holds
    /// the owner's key. It reads the key's record with a lock the edit's claim waits for (PostgreSQL: a share lock, which also
    /// makes a begin that waited on the claim read the record as that claim committed it; SQL Server: a held shared lock), so
    /// of a begin and a claim one comes first and the other sees it (the claim refuses a key with a recorded effect).
    /// </summary>
    private static string NotHeldByEdit(SqlDialect dialect) => dialect switch
    {
        // A scalar subquery: its lock is taken on the record whatever the column holds (a filter beside a locking subquery
        // in FROM is pushed into it, and then a record not yet held is never locked, nor waited for).
        SqlDialect.PostgreSql => "(SELECT edit_letter_id FROM bridge.idempotency_records WHERE idempotency_key = @OwnerKey FOR SHARE) IS NULL",
        SqlDialect.SqlServer => "(SELECT edit_letter_id FROM bridge.idempotency_records WITH (HOLDLOCK, ROWLOCK) WHERE idempotency_key = @OwnerKey) IS NULL",
        _ => "(SELECT edit_letter_id FROM idempotency_records WHERE idempotency_key = @OwnerKey) IS NULL",
    };

    private static EffectJournalSql Build(
        SqlDialect dialect,
        string table,
        string audit,
        string now,
        Func<string, string> sinceMs,
        string openTrue,
        string openFalse,
        Func<string, string> text,
        string page,
        string purge)
    {
        var restart = $"""
            UPDATE {table}
            SET state = 'Sending', is_open = {openTrue}, owner_key = @OwnerKey, attempt_id = @AttemptId, fingerprint = @Fingerprint, evidence = @Evidence,
                async_task_id = NULL, resource_id = NULL, sent_at = {now}, updated_at = {now}, send_window_ms = @SendWindowMs, task_deadline_ms = @TaskDeadlineMs
            WHERE {NotHeldByEdit(dialect)} AND effect_id = @EffectId AND state = 'NotApplied';
            """;
        var insert = $"""
            INSERT INTO {table}
                (effect_id, scope, effect_key, group_key, owner_key, attempt_id, fingerprint, state, is_open, evidence, sent_at, updated_at, send_window_ms, task_deadline_ms)
            SELECT @EffectId, @Scope, @EffectKey, @GroupKey, @OwnerKey, @AttemptId, @Fingerprint, 'Sending', {openTrue}, @Evidence, {now}, {now}, @SendWindowMs, @TaskDeadlineMs
            WHERE {NotHeldByEdit(dialect)} AND NOT EXISTS (SELECT 1 FROM {table} WHERE effect_id = @EffectId);
            """;
        var claimRenew = ClaimRenewOf(dialect);
        return new()
        {
            SelectById = $"SELECT {Columns}, {sinceMs("sent_at")} AS SinceSentMs FROM {table} WHERE effect_id = @EffectId;",
            SelectOpen = $"SELECT {Columns}, {sinceMs("sent_at")} AS SinceSentMs FROM {table} WHERE scope = @Scope AND group_key = @GroupKey AND is_open = {openTrue};",
            SelectOpenAndById = $"""
                SELECT 1 AS Role, {Columns}, {sinceMs("sent_at")} AS SinceSentMs FROM {table} WHERE scope = @Scope AND group_key = @GroupKey AND is_open = {openTrue}
                UNION ALL
                SELECT 2 AS Role, {Columns}, {sinceMs("sent_at")} AS SinceSentMs FROM {table} WHERE effect_id = @EffectId;
                """,
            Restart = restart,
            Insert = insert,
            ClaimRenew = claimRenew,
            FencedBegin = dialect == SqlDialect.PostgreSql ? Fenced(claimRenew, insert, restart) : null,
            Adopt = $"""
                INSERT INTO {table}
                    (effect_id, scope, effect_key, group_key, owner_key, attempt_id, fingerprint, state, is_open, async_task_id, evidence, sent_at, updated_at)
                VALUES (@EffectId, @Scope, @EffectKey, @GroupKey, @OwnerKey, @AttemptId, @Fingerprint, @State, {openTrue}, @AsyncTaskId, @Evidence, @SentAt, {now});
                """,
            StampSend = $"""
                UPDATE {table}
                SET sent_at = {now}, updated_at = {now}
                WHERE effect_id = @EffectId AND attempt_id = @AttemptId AND state = 'Sending';
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
            ResolveUnlanded = $"""
                UPDATE {table}
                SET state = @State, is_open = {openFalse}, resource_id = COALESCE(@ResourceId, resource_id),
                    evidence = COALESCE(@Evidence, evidence), updated_at = {now}
                WHERE effect_id = @EffectId AND attempt_id = @AttemptId AND is_open = {openTrue} AND {sinceMs("sent_at")} >= @WindowMs;
                """,
            CountOwners = $"SELECT COUNT(*) FROM {table} WHERE scope = @Scope AND resource_id = @ResourceId AND state = 'Applied' AND effect_id <> @EffectId;",
            Query = $"""
                SELECT {Columns}, {AdminColumns}, {sinceMs("sent_at")} AS SinceSentMs
                FROM {table}
                {Filter(sinceMs("sent_at"), openTrue, text)}
                ORDER BY sent_at, effect_id
                {page};
                """,
            QueryCount = $"""
                SELECT COUNT(*)
                FROM {table}
                {Filter(sinceMs("sent_at"), openTrue, text)};
                """,
            SelectDetails = $"SELECT {Columns}, {AdminColumns}, {sinceMs("sent_at")} AS SinceSentMs FROM {table} WHERE effect_id = @EffectId;",
            OperatorResolve = $"""
                UPDATE {table}
                SET state = @State, is_open = {openFalse}, resource_id = @ResourceId, evidence = @Evidence, updated_at = {now}
                WHERE effect_id = @EffectId AND attempt_id = @AttemptId AND state = @FromState
                  AND (state = 'Unknown' OR is_open = {openTrue})
                  AND ({sinceMs("sent_at")} >= @OpenResolvableAfterMs OR (state = 'Unknown' AND @State = 'Applied'));
                """,
            AuditInsert = $"""
                INSERT INTO {audit} (effect_id, at, actor, action, outcome, detail)
                VALUES (@EffectId, {now}, @Actor, @Action, @Outcome, @Detail);
                """,
            AuditSelect = $"""
                SELECT id AS Id, at AS At, actor AS Actor, action AS Action, outcome AS Outcome, detail AS Detail
                FROM {audit}
                WHERE effect_id = @EffectId
                ORDER BY id;
                """,
            Purge = purge,
            Health = $"""
                SELECT (SELECT COUNT(*) FROM {table} WHERE state = 'Unknown') AS UnknownCount,
                       (SELECT COUNT(*) FROM {table} WHERE is_open = {openTrue}) AS OpenCount,
                       (SELECT {sinceMs("MIN(sent_at)")} FROM {table} WHERE is_open = {openTrue}) AS OldestOpenMs;
                """,
        };
    }

    // The CASTs give an unset (null) filter a type, which PostgreSQL cannot infer from "IS NULL" alone.
    private static readonly EffectJournalSql PostgreSql = Build(
        SqlDialect.PostgreSql,
        "bridge.effect_journal",
        "bridge.effect_audit",
        "clock_timestamp()",
        sent => $"CAST(EXTRACT(EPOCH FROM (clock_timestamp() - {sent})) * 1000 AS bigint)",
        "true",
        "false",
        parameter => $"CAST({parameter} AS text)",
        "LIMIT @Take OFFSET @Skip",
        """
        DELETE FROM bridge.effect_journal
        WHERE effect_id IN
        (
            SELECT effect_id FROM bridge.effect_journal
            WHERE state IN ('Applied', 'NotApplied') AND updated_at < @OlderThan
              AND (state = 'NotApplied' OR NOT EXISTS (SELECT 1 FROM bridge.dead_letters d WHERE d.idempotency_key = effect_journal.owner_key))
            LIMIT @BatchSize
        );
        """);

    private static readonly EffectJournalSql Sqlite = Build(
        SqlDialect.Sqlite,
        "effect_journal",
        "effect_audit",
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        sent => $"CAST((julianday('now') - julianday({sent})) * 86400000 AS INTEGER)",
        "1",
        "0",
        parameter => parameter,
        "LIMIT @Take OFFSET @Skip",
        """
        DELETE FROM effect_journal
        WHERE rowid IN
        (
            SELECT rowid FROM effect_journal
            WHERE state IN ('Applied', 'NotApplied') AND updated_at < @OlderThan
              AND (state = 'NotApplied' OR NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.idempotency_key = effect_journal.owner_key))
            LIMIT @BatchSize
        );
        """);

    // TOP keeps each statement's locks far below the escalation threshold (5 000), so a purge never locks the table.
    private static readonly EffectJournalSql SqlServer = Build(
        SqlDialect.SqlServer,
        "bridge.effect_journal",
        "bridge.effect_audit",
        "SYSDATETIMEOFFSET()",
        sent => $"DATEDIFF_BIG(millisecond, {sent}, SYSDATETIMEOFFSET())",
        "1",
        "0",
        parameter => parameter,
        "OFFSET @Skip ROWS FETCH NEXT @Take ROWS ONLY",
        """
        DELETE TOP (@BatchSize) FROM bridge.effect_journal
        WHERE state IN (N'Applied', N'NotApplied') AND updated_at < @OlderThan
          AND (state = N'NotApplied' OR NOT EXISTS (SELECT 1 FROM bridge.dead_letters d WHERE d.idempotency_key = effect_journal.owner_key));
        """);
}
