namespace Bridge.Host.Storage;

public sealed partial class SqlStatements
{
    /// <summary>The dead-letter filter shared by the query, its count and the groups.</summary>
    private const string PostgreSqlDeadLetterFilter = """
        WHERE (CAST(@Status AS text) IS NULL OR status = @Status)
          AND (CAST(@MessageType AS text) IS NULL OR message_type = @MessageType)
          AND (CAST(@Queue AS text) IS NULL OR source_queue = @Queue)
          AND (CAST(@ErpKey AS text) IS NULL OR erp_key = @ErpKey)
          AND (CAST(@ExceptionType AS text) IS NULL OR exception_type = @ExceptionType)
          AND (CAST(@FailureGroup AS text) IS NULL OR failure_group = @FailureGroup)
          AND (CAST(@From AS timestamptz) IS NULL OR last_failed_at >= CAST(@From AS timestamptz))
          AND (CAST(@To AS timestamptz) IS NULL OR last_failed_at < CAST(@To AS timestamptz))
          AND (CAST(@Text AS text) IS NULL
               OR exception_message ILIKE @Text ESCAPE '\'
               OR body ILIKE @Text ESCAPE '\'
               OR erp_key ILIKE @Text ESCAPE '\'
               OR message_id ILIKE @Text ESCAPE '\')
        """;

    public static SqlStatements PostgreSql { get; } = new()
    {
        EnsureMigrationSchema = "CREATE SCHEMA IF NOT EXISTS bridge;",

        EnsureMigrationTable = """
            CREATE TABLE IF NOT EXISTS bridge.schema_versions
            (
                script_name varchar(255) NOT NULL CONSTRAINT pk_schema_versions PRIMARY KEY,
                applied_at  timestamptz  NOT NULL
            );
            """,

        // Transaction-scoped, so commit or rollback (or the runner's connection dying) releases it. Concurrent
        // CREATE ... IF NOT EXISTS is not race-free in PostgreSQL, which is why even the bootstrap runs under it.
        AcquireMigrationLock = "SELECT pg_advisory_xact_lock(hashtext('bridge.migrations'));",

        SelectAppliedMigrations = "SELECT script_name FROM bridge.schema_versions;",

        InsertMigration = "INSERT INTO bridge.schema_versions (script_name, applied_at) VALUES (@ScriptName, @AppliedAt);",

        // ON CONFLICT waits for a concurrent inserter of the same key to commit, then does nothing: one row affected
        // for exactly one caller.
        IdempotencyInsert = """
            INSERT INTO bridge.idempotency_records
                (idempotency_key, message_type, fingerprint, document_key, state, created_at, updated_at)
            VALUES (@IdempotencyKey, @MessageType, @Fingerprint, @DocumentKey, 'InProgress', @Now, @Now)
            ON CONFLICT (idempotency_key) DO NOTHING;
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
            WHERE document_key = @DocumentKey AND message_type = @MessageType AND state = 'InProgress'
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
            SET state = 'Completed', outcome = @Outcome, resource_id = @ResourceId,
                pending_async_task_id = NULL, updated_at = @Now
            WHERE idempotency_key = @IdempotencyKey AND state = 'InProgress';
            """,

        IdempotencyState = """
            SELECT state FROM bridge.idempotency_records WHERE idempotency_key = @IdempotencyKey;
            """,

        IdempotencyPurge = """
            DELETE FROM bridge.idempotency_records
            WHERE idempotency_key IN
            (
                SELECT idempotency_key FROM bridge.idempotency_records
                WHERE state = 'Completed' AND updated_at < @OlderThan
                LIMIT @BatchSize
            );
            """,

        // The conflict arm re-checks the claim on the latest row version, so of two racing claimers only one
        // sees it free. statement_timestamp() is the server's clock when the statement began.
        DocumentClaim = """
            INSERT INTO bridge.document_states AS s
                (scope, document_key, deleted, claimed_by, claim_expires_at, updated_at)
            VALUES (@Scope, @DocumentKey, false, @Owner, statement_timestamp() + @LeaseMilliseconds * interval '1 millisecond', @Now)
            ON CONFLICT (scope, document_key) DO UPDATE
                SET claimed_by = excluded.claimed_by, claim_expires_at = excluded.claim_expires_at
                WHERE s.claimed_by IS NULL OR s.claim_expires_at < statement_timestamp() OR s.claimed_by = @Owner
            RETURNING s.scope AS Scope, s.document_key AS DocumentKey, s.applied_version AS AppliedVersion,
                      s.resource_id AS ResourceId, s.deleted AS Deleted, s.updated_at AS UpdatedAt;
            """,

        DocumentRenew = """
            UPDATE bridge.document_states
            SET claim_expires_at = statement_timestamp() + @LeaseMilliseconds * interval '1 millisecond'
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
            INSERT INTO bridge.document_states AS s
                (scope, document_key, applied_version, resource_id, deleted, updated_at)
            VALUES (@Scope, @DocumentKey, @AppliedVersion, @ResourceId, @Deleted, @Now)
            ON CONFLICT (scope, document_key) DO UPDATE
                SET applied_version = excluded.applied_version, resource_id = excluded.resource_id,
                    deleted = excluded.deleted, updated_at = excluded.updated_at;
            """,

        OutboxInsert = """
            INSERT INTO bridge.outbox_messages (id, message_type, body, headers, created_at, attempts, trace_parent, trace_state)
            VALUES (@Id, @MessageType, @Body, @Headers, @CreatedAt, @Attempts, @TraceParent, @TraceState);
            """,

        // SKIP LOCKED passes over rows another claimer has locked; a row whose lease another claimer has just
        // committed is re-checked against the WHERE clause and dropped.
        OutboxClaim = """
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

        OutboxMarkDispatched = """
            UPDATE bridge.outbox_messages
            SET dispatched_at = @Now, locked_by = @Owner, locked_until = NULL
            WHERE id = ANY(@Ids) AND dispatched_at IS NULL;
            """,

        OutboxMarkFailed = """
            UPDATE bridge.outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = statement_timestamp() + @RetryAfterMilliseconds * interval '1 millisecond'
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        OutboxPark = """
            UPDATE bridge.outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = NULL, parked_at = @Now
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        OutboxCountPending = "SELECT count(*) FROM bridge.outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NULL;",

        OutboxCountParked = "SELECT count(*) FROM bridge.outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NOT NULL;",

        OutboxBacklog = """
            SELECT count(*) FILTER (WHERE parked_at IS NULL) AS Pending,
                   count(*) FILTER (WHERE parked_at IS NOT NULL) AS Parked,
                   min(created_at) FILTER (WHERE parked_at IS NULL) AS OldestPendingAt
            FROM bridge.outbox_messages
            WHERE dispatched_at IS NULL;
            """,

        OutboxPurgeDispatched = """
            DELETE FROM bridge.outbox_messages
            WHERE id IN
            (
                SELECT id FROM bridge.outbox_messages
                WHERE dispatched_at < @OlderThan
                LIMIT @BatchSize
            );
            """,

        // ON CONFLICT waits for a concurrent capture of the same message to commit, then counts this failure on its row.
        DeadLetterUpsert = """
            INSERT INTO bridge.dead_letters AS d
                (id, source_queue, message_type, message_id, identity_hash, erp_key, correlation_id, content_type, body, body_encoding,
                 headers, exception_type, exception_message, stack_trace, failure_group, normalized_message,
                 attempt_count, failure_count, first_failed_at, last_failed_at, status, replay_count, updated_at)
            VALUES (@Id, @SourceQueue, @MessageType, @MessageId, @IdentityHash, @ErpKey, @CorrelationId, @ContentType, @Body, @BodyEncoding,
                    @Headers, @ExceptionType, @ExceptionMessage, @StackTrace, @FailureGroup, @NormalizedMessage,
                    @AttemptCount, 1, @FailedAt, @FailedAt, 'Pending', 0, @FailedAt)
            ON CONFLICT (source_queue, identity_hash) WHERE identity_hash IS NOT NULL DO UPDATE
                SET exception_type = excluded.exception_type, exception_message = excluded.exception_message,
                    stack_trace = excluded.stack_trace, failure_group = excluded.failure_group,
                    normalized_message = excluded.normalized_message,
                    attempt_count = d.attempt_count + excluded.attempt_count, failure_count = d.failure_count + 1,
                    last_failed_at = excluded.last_failed_at, status = 'Pending', status_reason = NULL,
                    replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = excluded.updated_at
            RETURNING d.id AS Id, d.failure_count AS FailureCount;
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

        // The CASTs give an unset (null) filter a type, which PostgreSQL cannot infer from "IS NULL" alone.
        DeadLetterQuery = $$"""
            SELECT id AS Id, source_queue AS SourceQueue, message_type AS MessageType, message_id AS MessageId,
                   erp_key AS ErpKey, exception_type AS ExceptionType, exception_message AS ExceptionMessage,
                   failure_group AS FailureGroup, attempt_count AS AttemptCount, failure_count AS FailureCount,
                   first_failed_at AS FirstFailedAt, last_failed_at AS LastFailedAt, status AS Status,
                   status_reason AS StatusReason, replay_count AS ReplayCount
            FROM bridge.dead_letters
            {{PostgreSqlDeadLetterFilter}}
            ORDER BY last_failed_at DESC, id
            LIMIT @Take OFFSET @Skip;
            """,

        DeadLetterQueryCount = $$"""
            SELECT count(*)
            FROM bridge.dead_letters
            {{PostgreSqlDeadLetterFilter}};
            """,

        DeadLetterGroups = $$"""
            SELECT failure_group AS FailureGroup, exception_type AS ExceptionType, normalized_message AS NormalizedMessage,
                   count(*) AS Count, MIN(first_failed_at) AS FirstSeen, MAX(last_failed_at) AS LastSeen
            FROM bridge.dead_letters
            {{PostgreSqlDeadLetterFilter}}
            GROUP BY failure_group, exception_type, normalized_message
            ORDER BY count(*) DESC, MAX(last_failed_at) DESC
            LIMIT 500;
            """,

        // A second claimer waits on the row lock, then re-checks the WHERE clause against the claimed row and matches nothing.
        // The lease runs on the database's clock, never on an instance's own.
        DeadLetterClaimReplay = """
            UPDATE bridge.dead_letters
            SET status = 'Replaying', replay_claimed_by = @Owner,
                replay_claim_expires_at = statement_timestamp() + @LeaseMilliseconds * interval '1 millisecond',
                updated_at = @Now
            WHERE id = @Id AND status = 'Pending';
            """,

        DeadLetterSelectExpiredReplays = """
            SELECT id AS Id, source_queue AS SourceQueue, replay_claimed_by AS Owner, replay_claim_expires_at AS ExpiresAt
            FROM bridge.dead_letters
            WHERE status = 'Replaying' AND replay_claim_expires_at < statement_timestamp() AND (CAST(@Id AS uuid) IS NULL OR id = @Id)
            ORDER BY replay_claim_expires_at
            LIMIT 500;
            """,

        DeadLetterReleaseExpiredReplay = """
            UPDATE bridge.dead_letters
            SET status = 'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner AND replay_claim_expires_at < statement_timestamp();
            """,

        DeadLetterCompleteReplay = """
            UPDATE bridge.dead_letters
            SET status = 'Replayed', status_reason = NULL, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        DeadLetterReleaseReplay = """
            UPDATE bridge.dead_letters
            SET status = 'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        DeadLetterCompleteEdit = """
            UPDATE bridge.dead_letters
            SET status = 'Discarded', status_reason = @Reason, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        DeadLetterDiscard = """
            UPDATE bridge.dead_letters
            SET status = 'Discarded', status_reason = @Reason, updated_at = @Now
            WHERE id = @Id AND status IN ('Pending', 'Replayed');
            """,

        DeadLetterRestore = """
            UPDATE bridge.dead_letters
            SET status = 'Pending', status_reason = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Discarded';
            """,

        DeadLetterPurge = """
            DELETE FROM bridge.dead_letters
            WHERE id IN
            (
                SELECT id FROM bridge.dead_letters
                WHERE last_failed_at < @OlderThan AND (status <> 'Replaying' OR replay_claim_expires_at < statement_timestamp())
                LIMIT @BatchSize
            );
            """,

        DeadLetterCountByStatus = """
            SELECT status AS Status, count(*) AS Count FROM bridge.dead_letters GROUP BY status;
            """,
    };
}
