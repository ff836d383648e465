namespace Bridge.Host.Storage;

/// <summary>The outbox's statements, the three dialects side by side.</summary>
public sealed class OutboxSql
{
    public required string Insert { get; init; }

    /// <summary>
    /// Leases up to <c>@BatchSize</c> due rows (not parked, retry time reached, lease expired) for <c>@LeaseMilliseconds</c>,
    /// fewest attempts first then oldest first, skipping rows other transactions hold, and returns them.
    /// </summary>
    public required string Claim { get; init; }

    public required string MarkDispatched { get; init; }

    /// <summary>Counts a failed attempt and makes the row due again <c>@RetryAfterMilliseconds</c> from the database's now.</summary>
    public required string MarkFailed { get; init; }

    /// <summary>Counts a failed attempt and parks the row: kept, never claimed again until requeued.</summary>
    public required string Park { get; init; }

    public required string CountPending { get; init; }

    public required string CountParked { get; init; }

    /// <summary>One row: undispatched messages pending (<c>Pending</c>) and parked (<c>Parked</c>), and the creation time of the oldest pending one (<c>OldestPendingAt</c>, null when none).</summary>
    public required string Backlog { get; init; }

    /// <summary>Deletes up to <c>@BatchSize</c> rows dispatched before <c>@OlderThan</c>.</summary>
    public required string PurgeDispatched { get; init; }

    public static OutboxSql For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.PostgreSql => PostgreSql,
        SqlDialect.Sqlite => Sqlite,
        SqlDialect.SqlServer => SqlServer,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect."),
    };

    private static readonly OutboxSql PostgreSql = new()
    {
        Insert = """
            INSERT INTO bridge.outbox_messages (id, message_type, body, headers, created_at, attempts, trace_parent, trace_state, source_message_id)
            VALUES (@Id, @MessageType, @Body, @Headers, @CreatedAt, @Attempts, @TraceParent, @TraceState, @SourceMessageId);
            """,

        // SKIP LOCKED passes over rows another claimer has locked; a row whose lease another claimer has just
        // committed is re-checked against the WHERE clause and dropped.
        Claim = """
            WITH next AS
            (
                SELECT id
                FROM bridge.outbox_messages
                WHERE dispatched_at IS NULL AND parked_at IS NULL
                  AND (locked_until IS NULL OR locked_until < statement_timestamp())
                  AND (next_attempt_at IS NULL OR next_attempt_at <= statement_timestamp())
                ORDER BY attempts, created_at, id
                LIMIT @BatchSize
                FOR UPDATE SKIP LOCKED
            )
            UPDATE bridge.outbox_messages AS m
            SET locked_by = @Owner, locked_until = statement_timestamp() + @LeaseMilliseconds * interval '1 millisecond'
            FROM next
            WHERE m.id = next.id
            RETURNING m.id AS Id, m.message_type AS MessageType, m.body AS Body, m.headers AS Headers,
                      m.created_at AS CreatedAt, m.attempts AS Attempts, m.trace_parent AS TraceParent, m.trace_state AS TraceState;
            """,

        MarkDispatched = """
            UPDATE bridge.outbox_messages
            SET dispatched_at = @Now, locked_by = @Owner, locked_until = NULL
            WHERE id = ANY(@Ids) AND dispatched_at IS NULL;
            """,

        MarkFailed = """
            UPDATE bridge.outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = statement_timestamp() + @RetryAfterMilliseconds * interval '1 millisecond'
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        Park = """
            UPDATE bridge.outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = NULL, parked_at = @Now
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        CountPending = "SELECT count(*) FROM bridge.outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NULL;",

        CountParked = "SELECT count(*) FROM bridge.outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NOT NULL;",

        Backlog = """
            SELECT count(*) FILTER (WHERE parked_at IS NULL) AS Pending,
                   count(*) FILTER (WHERE parked_at IS NOT NULL) AS Parked,
                   min(created_at) FILTER (WHERE parked_at IS NULL) AS OldestPendingAt
            FROM bridge.outbox_messages
            WHERE dispatched_at IS NULL;
            """,

        PurgeDispatched = """
            DELETE FROM bridge.outbox_messages
            WHERE id IN
            (
                SELECT id FROM bridge.outbox_messages
                WHERE dispatched_at < @OlderThan
                LIMIT @BatchSize
            );
            """,
    };

    private static readonly OutboxSql Sqlite = new()
    {
        Insert = """
            INSERT INTO outbox_messages (id, message_type, body, headers, created_at, attempts, trace_parent, trace_state, source_message_id)
            VALUES (@Id, @MessageType, @Body, @Headers, @CreatedAt, @Attempts, @TraceParent, @TraceState, @SourceMessageId);
            """,

        Claim = $"""
            UPDATE outbox_messages
            SET locked_by = @Owner, locked_until = {SqliteClock.NowPlus("@LeaseMilliseconds")}
            WHERE id IN
            (
                SELECT id
                FROM outbox_messages
                WHERE dispatched_at IS NULL AND parked_at IS NULL
                  AND (locked_until IS NULL OR locked_until < {SqliteClock.Now})
                  AND (next_attempt_at IS NULL OR next_attempt_at <= {SqliteClock.Now})
                ORDER BY attempts, created_at, id
                LIMIT @BatchSize
            )
            RETURNING id AS Id, message_type AS MessageType, body AS Body, headers AS Headers,
                      created_at AS CreatedAt, attempts AS Attempts, trace_parent AS TraceParent, trace_state AS TraceState;
            """,

        MarkDispatched = """
            UPDATE outbox_messages
            SET dispatched_at = @Now, locked_by = @Owner, locked_until = NULL
            WHERE id IN (SELECT value FROM json_each(@Ids)) AND dispatched_at IS NULL;
            """,

        MarkFailed = $"""
            UPDATE outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = {SqliteClock.NowPlus("@RetryAfterMilliseconds")}
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        Park = """
            UPDATE outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = NULL, parked_at = @Now
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        CountPending = "SELECT COUNT(*) FROM outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NULL;",

        CountParked = "SELECT COUNT(*) FROM outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NOT NULL;",

        Backlog = """
            SELECT COUNT(CASE WHEN parked_at IS NULL THEN 1 END) AS Pending,
                   COUNT(CASE WHEN parked_at IS NOT NULL THEN 1 END) AS Parked,
                   MIN(CASE WHEN parked_at IS NULL THEN created_at END) AS OldestPendingAt
            FROM outbox_messages
            WHERE dispatched_at IS NULL;
            """,

        PurgeDispatched = """
            DELETE FROM outbox_messages
            WHERE rowid IN
            (
                SELECT rowid FROM outbox_messages
                WHERE dispatched_at < @OlderThan
                LIMIT @BatchSize
            );
            """,
    };

    private static readonly OutboxSql SqlServer = new()
    {
        Insert = """
            INSERT INTO bridge.outbox_messages (id, message_type, body, headers, created_at, attempts, trace_parent, trace_state, source_message_id)
            VALUES (@Id, @MessageType, @Body, @Headers, @CreatedAt, @Attempts, @TraceParent, @TraceState, @SourceMessageId);
            """,

        // READPAST skips rows another claimer (or an uncommitted enqueue) holds; UPDLOCK keeps the rows this
        // statement read from being claimed by another until it has updated them.
        Claim = """
            WITH next AS
            (
                SELECT TOP (@BatchSize) id, message_type, body, headers, created_at, attempts, trace_parent, trace_state, locked_by, locked_until
                FROM bridge.outbox_messages WITH (UPDLOCK, READPAST, ROWLOCK)
                WHERE dispatched_at IS NULL AND parked_at IS NULL
                  AND (locked_until IS NULL OR locked_until < SYSUTCDATETIME())
                  AND (next_attempt_at IS NULL OR next_attempt_at <= SYSUTCDATETIME())
                ORDER BY attempts, created_at, id
            )
            UPDATE next
            SET locked_by = @Owner, locked_until = DATEADD(millisecond, @LeaseMilliseconds, SYSUTCDATETIME())
            OUTPUT inserted.id AS Id, inserted.message_type AS MessageType, inserted.body AS Body,
                   inserted.headers AS Headers, inserted.created_at AS CreatedAt, inserted.attempts AS Attempts,
                   inserted.trace_parent AS TraceParent, inserted.trace_state AS TraceState;
            """,

        MarkDispatched = """
            UPDATE bridge.outbox_messages
            SET dispatched_at = @Now, locked_by = @Owner, locked_until = NULL
            WHERE id IN @Ids AND dispatched_at IS NULL;
            """,

        MarkFailed = """
            UPDATE bridge.outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = DATEADD(millisecond, @RetryAfterMilliseconds, SYSUTCDATETIME())
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        Park = """
            UPDATE bridge.outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = NULL, parked_at = @Now
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        CountPending = "SELECT COUNT_BIG(*) FROM bridge.outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NULL;",

        CountParked = "SELECT COUNT_BIG(*) FROM bridge.outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NOT NULL;",

        Backlog = """
            SELECT COUNT_BIG(CASE WHEN parked_at IS NULL THEN 1 END) AS Pending,
                   COUNT_BIG(CASE WHEN parked_at IS NOT NULL THEN 1 END) AS Parked,
                   MIN(CASE WHEN parked_at IS NULL THEN created_at END) AS OldestPendingAt
            FROM bridge.outbox_messages
            WHERE dispatched_at IS NULL;
            """,

        PurgeDispatched = """
            DELETE TOP (@BatchSize) FROM bridge.outbox_messages
            WHERE dispatched_at < @OlderThan;
            """,
    };
}
