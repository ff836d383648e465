namespace Bridge.Host.Storage;

public sealed partial class SqlStatements
{
    /// <summary>
    /// The dead-letter filter shared by the query, its count and the groups — the same text on SQL Server and SQLite
    /// (PostgreSQL needs its parameters cast).
    /// </summary>
    private const string PortableDeadLetterFilter = """
        WHERE (@Status IS NULL OR status = @Status)
          AND (@MessageType IS NULL OR message_type = @MessageType)
          AND (@Queue IS NULL OR source_queue = @Queue)
          AND (@ErpKey IS NULL OR erp_key = @ErpKey)
          AND (@ExceptionType IS NULL OR exception_type = @ExceptionType)
          AND (@FailureGroup IS NULL OR failure_group = @FailureGroup)
          AND (@From IS NULL OR last_failed_at >= @From)
          AND (@To IS NULL OR last_failed_at < @To)
          AND (@Text IS NULL
               OR exception_message LIKE @Text ESCAPE '\'
               OR body LIKE @Text ESCAPE '\'
               OR erp_key LIKE @Text ESCAPE '\'
               OR message_id LIKE @Text ESCAPE '\')
        """;

    public static SqlStatements SqlServer { get; } = new()
    {
        // CREATE SCHEMA must be alone in its batch, hence EXEC.
        EnsureMigrationSchema = """
            IF SCHEMA_ID(N'bridge') IS NULL
                EXEC (N'CREATE SCHEMA bridge');
            """,

        EnsureMigrationTable = """
            IF OBJECT_ID(N'bridge.schema_versions', N'U') IS NULL
                CREATE TABLE bridge.schema_versions
                (
                    script_name nvarchar(255)     NOT NULL CONSTRAINT pk_schema_versions PRIMARY KEY,
                    applied_at  datetimeoffset(7) NOT NULL
                );
            """,

        // Owned by the transaction, so the lock is released by commit or rollback even if the runner dies.
        AcquireMigrationLock = """
            DECLARE @lock_result int;
            EXEC @lock_result = sp_getapplock
                @Resource = N'bridge.migrations',
                @LockMode = N'Exclusive',
                @LockOwner = N'Transaction',
                @LockTimeout = 120000;
            IF @lock_result < 0
                THROW 50000, N'Timed out waiting for another instance to finish migrating the Bridge database.', 1;
            """,

        SelectAppliedMigrations = "SELECT script_name FROM bridge.schema_versions;",

        InsertMigration = "INSERT INTO bridge.schema_versions (script_name, applied_at) VALUES (@ScriptName, @AppliedAt);",

        // UPDLOCK + HOLDLOCK take a key-range lock, so a concurrent caller waits and then sees the row instead of
        // both passing NOT EXISTS; the store still treats a duplicate-key error (2627/2601) as "already there".
        IdempotencyInsert = """
            INSERT INTO bridge.idempotency_records
                (idempotency_key, message_type, fingerprint, document_key, state, created_at, updated_at)
            SELECT @IdempotencyKey, @MessageType, @Fingerprint, @DocumentKey, N'InProgress', @Now, @Now
            WHERE NOT EXISTS
            (
                SELECT 1 FROM bridge.idempotency_records WITH (UPDLOCK, HOLDLOCK)
                WHERE idempotency_key = @IdempotencyKey
            );
            """,

        IdempotencySelect = """
            SELECT idempotency_key AS IdempotencyKey, message_type AS MessageType, fingerprint AS Fingerprint,
                   document_key AS DocumentKey, state AS State, outcome AS Outcome, resource_id AS ResourceId,
                   pending_async_task_id AS PendingAsyncTaskId, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM bridge.idempotency_records
            WHERE idempotency_key = @IdempotencyKey;
            """,

        // Served by ix_idempotency_records_document_key; only markers from before the effect journal are non-null.
        IdempotencySelectMarkedForDocument = """
            SELECT idempotency_key AS IdempotencyKey, message_type AS MessageType, fingerprint AS Fingerprint,
                   document_key AS DocumentKey, state AS State, outcome AS Outcome, resource_id AS ResourceId,
                   pending_async_task_id AS PendingAsyncTaskId, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM bridge.idempotency_records
            WHERE document_key = @DocumentKey AND message_type = @MessageType AND state = N'InProgress'
              AND pending_async_task_id IS NOT NULL
            ORDER BY created_at, idempotency_key;
            """,

        IdempotencySetPendingAsyncTask = """
            UPDATE bridge.idempotency_records
            SET pending_async_task_id = @AsyncTaskId, updated_at = @Now
            WHERE idempotency_key = @IdempotencyKey;
            """,

        IdempotencyComplete = """
            UPDATE bridge.idempotency_records
            SET state = N'Completed', outcome = @Outcome, resource_id = @ResourceId,
                pending_async_task_id = NULL, updated_at = @Now
            WHERE idempotency_key = @IdempotencyKey AND state = N'InProgress';
            """,

        IdempotencyState = """
            SELECT state FROM bridge.idempotency_records WHERE idempotency_key = @IdempotencyKey;
            """,

        // TOP keeps each statement's locks far below the escalation threshold (5 000), so a purge never locks the table.
        IdempotencyPurge = """
            DELETE TOP (@BatchSize) FROM bridge.idempotency_records
            WHERE state = N'Completed' AND updated_at < @OlderThan;
            """,

        // HOLDLOCK makes MERGE's match-then-insert atomic; without it two claimers of a new key can both insert.
        // SYSUTCDATETIME() is the server's UTC clock; compared with or stored in a datetimeoffset column it reads as +00:00.
        DocumentClaim = """
            MERGE bridge.document_states WITH (HOLDLOCK) AS target
            USING (VALUES (@Scope, @DocumentKey)) AS source (scope, document_key)
                ON target.scope = source.scope AND target.document_key = source.document_key
            WHEN MATCHED AND (target.claimed_by IS NULL OR target.claim_expires_at < SYSUTCDATETIME() OR target.claimed_by = @Owner) THEN
                UPDATE SET claimed_by = @Owner, claim_expires_at = DATEADD(millisecond, @LeaseMilliseconds, SYSUTCDATETIME())
            WHEN NOT MATCHED THEN
                INSERT (scope, document_key, deleted, claimed_by, claim_expires_at, updated_at)
                VALUES (@Scope, @DocumentKey, 0, @Owner, DATEADD(millisecond, @LeaseMilliseconds, SYSUTCDATETIME()), @Now)
            OUTPUT inserted.scope AS Scope, inserted.document_key AS DocumentKey, inserted.applied_version AS AppliedVersion,
                   inserted.resource_id AS ResourceId, inserted.deleted AS Deleted, inserted.updated_at AS UpdatedAt;
            """,

        DocumentRenew = """
            UPDATE bridge.document_states
            SET claim_expires_at = DATEADD(millisecond, @LeaseMilliseconds, SYSUTCDATETIME())
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        DocumentRelease = """
            UPDATE bridge.document_states
            SET claimed_by = NULL, claim_expires_at = NULL
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        DocumentSelect = """
            SELECT scope AS Scope, document_key AS DocumentKey, applied_version AS AppliedVersion,
                   resource_id AS ResourceId, deleted AS Deleted, updated_at AS UpdatedAt
            FROM bridge.document_states
            WHERE scope = @Scope AND document_key = @DocumentKey;
            """,

        DocumentSetApplied = """
            MERGE bridge.document_states WITH (HOLDLOCK) AS target
            USING (VALUES (@Scope, @DocumentKey)) AS source (scope, document_key)
                ON target.scope = source.scope AND target.document_key = source.document_key
            WHEN MATCHED THEN
                UPDATE SET applied_version = @AppliedVersion, resource_id = @ResourceId, deleted = @Deleted, updated_at = @Now
            WHEN NOT MATCHED THEN
                INSERT (scope, document_key, applied_version, resource_id, deleted, updated_at)
                VALUES (@Scope, @DocumentKey, @AppliedVersion, @ResourceId, @Deleted, @Now);
            """,

        OutboxInsert = """
            INSERT INTO bridge.outbox_messages (id, message_type, body, headers, created_at, attempts, trace_parent, trace_state)
            VALUES (@Id, @MessageType, @Body, @Headers, @CreatedAt, @Attempts, @TraceParent, @TraceState);
            """,

        // READPAST skips rows another claimer (or an uncommitted enqueue) holds; UPDLOCK keeps the rows this
        // statement read from being claimed by another until it has updated them.
        OutboxClaim = """
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

        OutboxMarkDispatched = """
            UPDATE bridge.outbox_messages
            SET dispatched_at = @Now, locked_by = @Owner, locked_until = NULL
            WHERE id IN @Ids AND dispatched_at IS NULL;
            """,

        OutboxMarkFailed = """
            UPDATE bridge.outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = DATEADD(millisecond, @RetryAfterMilliseconds, SYSUTCDATETIME())
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        OutboxPark = """
            UPDATE bridge.outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = NULL, parked_at = @Now
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        OutboxCountPending = "SELECT COUNT_BIG(*) FROM bridge.outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NULL;",

        OutboxCountParked = "SELECT COUNT_BIG(*) FROM bridge.outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NOT NULL;",

        OutboxBacklog = """
            SELECT COUNT_BIG(CASE WHEN parked_at IS NULL THEN 1 END) AS Pending,
                   COUNT_BIG(CASE WHEN parked_at IS NOT NULL THEN 1 END) AS Parked,
                   MIN(CASE WHEN parked_at IS NULL THEN created_at END) AS OldestPendingAt
            FROM bridge.outbox_messages
            WHERE dispatched_at IS NULL;
            """,

        OutboxPurgeDispatched = """
            DELETE TOP (@BatchSize) FROM bridge.outbox_messages
            WHERE dispatched_at < @OlderThan;
            """,

        // HOLDLOCK makes MERGE's match-then-insert atomic, so two captures of one message cannot both insert.
        DeadLetterUpsert = """
            MERGE bridge.dead_letters WITH (HOLDLOCK) AS target
            USING (VALUES (@SourceQueue, @IdentityHash)) AS source (source_queue, identity_hash)
                ON target.source_queue = source.source_queue AND target.identity_hash = source.identity_hash
            WHEN MATCHED THEN
                UPDATE SET exception_type = @ExceptionType, exception_message = @ExceptionMessage,
                    stack_trace = @StackTrace, failure_group = @FailureGroup, normalized_message = @NormalizedMessage,
                    attempt_count = target.attempt_count + @AttemptCount, failure_count = target.failure_count + 1,
                    last_failed_at = @FailedAt, status = N'Pending', status_reason = NULL,
                    replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @FailedAt
            WHEN NOT MATCHED THEN
                INSERT (id, source_queue, message_type, message_id, identity_hash, erp_key, correlation_id, content_type, body, body_encoding,
                 headers, exception_type, exception_message, stack_trace, failure_group, normalized_message,
                 attempt_count, failure_count, first_failed_at, last_failed_at, status, replay_count, updated_at)
                VALUES (@Id, @SourceQueue, @MessageType, @MessageId, @IdentityHash, @ErpKey, @CorrelationId, @ContentType, @Body, @BodyEncoding,
                    @Headers, @ExceptionType, @ExceptionMessage, @StackTrace, @FailureGroup, @NormalizedMessage,
                    @AttemptCount, 1, @FailedAt, @FailedAt, N'Pending', 0, @FailedAt)
            OUTPUT inserted.id AS Id, inserted.failure_count AS FailureCount;
            """,

        DeadLetterAuditInsert = """
            INSERT INTO bridge.dead_letter_audit (dead_letter_id, at, actor, action, outcome, detail)
            VALUES (@DeadLetterId, @At, @Actor, @Action, @Outcome, @Detail);
            """,

        DeadLetterSelect = """
            SELECT id AS Id, source_queue AS SourceQueue, message_type AS MessageType, message_id AS MessageId,
                   erp_key AS ErpKey, exception_type AS ExceptionType, exception_message AS ExceptionMessage,
                   failure_group AS FailureGroup, attempt_count AS AttemptCount, failure_count AS FailureCount,
                   first_failed_at AS FirstFailedAt, last_failed_at AS LastFailedAt, status AS Status,
                   status_reason AS StatusReason, replay_count AS ReplayCount,
                   correlation_id AS CorrelationId, content_type AS ContentType, body AS Body, body_encoding AS BodyEncoding,
                   headers AS Headers, stack_trace AS StackTrace, normalized_message AS NormalizedMessage,
                   replay_claimed_by AS ReplayClaimedBy, replay_claim_expires_at AS ReplayClaimExpiresAt, updated_at AS UpdatedAt
            FROM bridge.dead_letters
            WHERE id = @Id;
            """,

        DeadLetterAuditSelect = """
            SELECT id AS Id, at AS At, actor AS Actor, action AS Action, outcome AS Outcome, detail AS Detail
            FROM bridge.dead_letter_audit
            WHERE dead_letter_id = @Id
            ORDER BY id;
            """,

        DeadLetterQuery = $$"""
            SELECT id AS Id, source_queue AS SourceQueue, message_type AS MessageType, message_id AS MessageId,
                   erp_key AS ErpKey, exception_type AS ExceptionType, exception_message AS ExceptionMessage,
                   failure_group AS FailureGroup, attempt_count AS AttemptCount, failure_count AS FailureCount,
                   first_failed_at AS FirstFailedAt, last_failed_at AS LastFailedAt, status AS Status,
                   status_reason AS StatusReason, replay_count AS ReplayCount
            FROM bridge.dead_letters
            {{PortableDeadLetterFilter}}
            ORDER BY last_failed_at DESC, id
            OFFSET @Skip ROWS FETCH NEXT @Take ROWS ONLY;
            """,

        DeadLetterQueryCount = $$"""
            SELECT COUNT_BIG(*)
            FROM bridge.dead_letters
            {{PortableDeadLetterFilter}};
            """,

        DeadLetterGroups = $$"""
            SELECT TOP (500) failure_group AS FailureGroup, exception_type AS ExceptionType, normalized_message AS NormalizedMessage,
                   COUNT_BIG(*) AS Count, MIN(first_failed_at) AS FirstSeen, MAX(last_failed_at) AS LastSeen
            FROM bridge.dead_letters
            {{PortableDeadLetterFilter}}
            GROUP BY failure_group, exception_type, normalized_message
            ORDER BY COUNT_BIG(*) DESC, MAX(last_failed_at) DESC;
            """,

        // The update lock on the row makes a second claimer wait, then re-check the WHERE clause and match nothing.
        // The lease runs on the database's clock, never on an instance's own; DATEADD takes an int, so whole seconds are
        // added apart from the milliseconds (a lease of weeks overflows an int of milliseconds).
        DeadLetterClaimReplay = """
            UPDATE bridge.dead_letters
            SET status = N'Replaying', replay_claimed_by = @Owner,
                replay_claim_expires_at = DATEADD(millisecond, @LeaseMilliseconds % 1000, DATEADD(second, @LeaseMilliseconds / 1000, SYSUTCDATETIME())),
                updated_at = @Now
            WHERE id = @Id AND status = N'Pending';
            """,

        DeadLetterSelectExpiredReplays = """
            SELECT TOP (500) id AS Id, source_queue AS SourceQueue, replay_claimed_by AS Owner, replay_claim_expires_at AS ExpiresAt
            FROM bridge.dead_letters
            WHERE status = N'Replaying' AND replay_claim_expires_at < SYSUTCDATETIME() AND (@Id IS NULL OR id = @Id)
            ORDER BY replay_claim_expires_at;
            """,

        DeadLetterReleaseExpiredReplay = """
            UPDATE bridge.dead_letters
            SET status = N'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = N'Replaying' AND replay_claimed_by = @Owner AND replay_claim_expires_at < SYSUTCDATETIME();
            """,

        DeadLetterCompleteReplay = """
            UPDATE bridge.dead_letters
            SET status = N'Replayed', status_reason = NULL, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = N'Replaying' AND replay_claimed_by = @Owner;
            """,

        DeadLetterReleaseReplay = """
            UPDATE bridge.dead_letters
            SET status = N'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = N'Replaying' AND replay_claimed_by = @Owner;
            """,

        DeadLetterCompleteEdit = """
            UPDATE bridge.dead_letters
            SET status = N'Discarded', status_reason = @Reason, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = N'Replaying' AND replay_claimed_by = @Owner;
            """,

        DeadLetterDiscard = """
            UPDATE bridge.dead_letters
            SET status = N'Discarded', status_reason = @Reason, updated_at = @Now
            WHERE id = @Id AND status IN (N'Pending', N'Replayed');
            """,

        DeadLetterRestore = """
            UPDATE bridge.dead_letters
            SET status = N'Pending', status_reason = NULL, updated_at = @Now
            WHERE id = @Id AND status = N'Discarded';
            """,

        DeadLetterPurge = """
            DELETE TOP (@BatchSize) FROM bridge.dead_letters
            WHERE last_failed_at < @OlderThan AND (status <> N'Replaying' OR replay_claim_expires_at < SYSUTCDATETIME());
            """,

        DeadLetterCountByStatus = """
            SELECT status AS Status, COUNT_BIG(*) AS Count FROM bridge.dead_letters GROUP BY status;
            """,
    };
}
