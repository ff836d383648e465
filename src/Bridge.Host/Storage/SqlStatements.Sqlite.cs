namespace Bridge.Host.Storage;

/// <remarks>
/// SQLite has one writer at a time, so a single statement is atomic against every other connection: the
/// claim statements need no lock hints, only the busy timeout <see cref="BridgeDatabase"/> sets.
/// </remarks>
public sealed partial class SqlStatements
{
    /// <summary>
    /// The database's clock (for SQLite, the host's system clock: the engine runs in the process), in the one fixed-width
    /// UTC text format the schema stores timestamps in: <c>%f</c> gives milliseconds, padded to seven digits.
    /// 'now' is the same instant for every use within one statement.
    /// </summary>
    private const string SqliteNow = "strftime('%Y-%m-%dT%H:%M:%f0000Z', 'now')";

    /// <summary>The database's clock plus a duration parameter in milliseconds, in the stored format.</summary>
    private static string SqliteNowPlus(string millisecondsParameter) =>
        $"strftime('%Y-%m-%dT%H:%M:%f0000Z', 'now', ({millisecondsParameter} / 1000.0) || ' seconds')";

    public static SqlStatements Sqlite { get; } = new()
    {
        EnsureMigrationSchema = null,

        EnsureMigrationTable = """
            CREATE TABLE IF NOT EXISTS schema_versions
            (
                script_name TEXT NOT NULL CONSTRAINT pk_schema_versions PRIMARY KEY,
                applied_at  TEXT NOT NULL
            );
            """,

        // The runner's BEGIN IMMEDIATE transaction already excludes every other writer.
        AcquireMigrationLock = null,

        SelectAppliedMigrations = "SELECT script_name FROM schema_versions;",

        InsertMigration = "INSERT INTO schema_versions (script_name, applied_at) VALUES (@ScriptName, @AppliedAt);",

        IdempotencyInsert = """
            INSERT INTO idempotency_records
                (idempotency_key, message_type, fingerprint, document_key, state, created_at, updated_at)
            VALUES (@IdempotencyKey, @MessageType, @Fingerprint, @DocumentKey, 'InProgress', @Now, @Now)
            ON CONFLICT (idempotency_key) DO NOTHING;
            """,

        IdempotencySelect = """
            SELECT idempotency_key AS IdempotencyKey, message_type AS MessageType, fingerprint AS Fingerprint,
                   document_key AS DocumentKey, state AS State, outcome AS Outcome, resource_id AS ResourceId,
                   pending_async_task_id AS PendingAsyncTaskId, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM idempotency_records
            WHERE idempotency_key = @IdempotencyKey;
            """,

        // Served by ix_idempotency_records_document_key; only markers from before the effect journal are non-null.
        IdempotencySelectMarkedForDocument = """
            SELECT idempotency_key AS IdempotencyKey, message_type AS MessageType, fingerprint AS Fingerprint,
                   document_key AS DocumentKey, state AS State, outcome AS Outcome, resource_id AS ResourceId,
                   pending_async_task_id AS PendingAsyncTaskId, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM idempotency_records
            WHERE document_key = @DocumentKey AND message_type = @MessageType AND state = 'InProgress'
              AND pending_async_task_id IS NOT NULL
            ORDER BY created_at, idempotency_key;
            """,

        IdempotencySetPendingAsyncTask = """
            UPDATE idempotency_records
            SET pending_async_task_id = @AsyncTaskId, updated_at = @Now
            WHERE idempotency_key = @IdempotencyKey;
            """,

        IdempotencyComplete = """
            UPDATE idempotency_records
            SET state = 'Completed', outcome = @Outcome, resource_id = @ResourceId,
                pending_async_task_id = NULL, updated_at = @Now
            WHERE idempotency_key = @IdempotencyKey AND state = 'InProgress';
            """,

        IdempotencyState = """
            SELECT state FROM idempotency_records WHERE idempotency_key = @IdempotencyKey;
            """,

        IdempotencyPurge = """
            DELETE FROM idempotency_records
            WHERE rowid IN
            (
                SELECT rowid FROM idempotency_records
                WHERE state = 'Completed' AND updated_at < @OlderThan
                LIMIT @BatchSize
            );
            """,

        DocumentClaim = $"""
            INSERT INTO document_states
                (scope, document_key, deleted, claimed_by, claim_expires_at, updated_at)
            VALUES (@Scope, @DocumentKey, 0, @Owner, {SqliteNowPlus("@LeaseMilliseconds")}, @Now)
            ON CONFLICT (scope, document_key) DO UPDATE
                SET claimed_by = excluded.claimed_by, claim_expires_at = excluded.claim_expires_at
                WHERE document_states.claimed_by IS NULL
                   OR document_states.claim_expires_at < {SqliteNow}
                   OR document_states.claimed_by = @Owner
            RETURNING scope AS Scope, document_key AS DocumentKey, applied_version AS AppliedVersion,
                      resource_id AS ResourceId, deleted AS Deleted, updated_at AS UpdatedAt;
            """,

        DocumentRenew = $"""
            UPDATE document_states
            SET claim_expires_at = {SqliteNowPlus("@LeaseMilliseconds")}
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        DocumentRelease = """
            UPDATE document_states
            SET claimed_by = NULL, claim_expires_at = NULL
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        DocumentSelect = """
            SELECT scope AS Scope, document_key AS DocumentKey, applied_version AS AppliedVersion,
                   resource_id AS ResourceId, deleted AS Deleted, updated_at AS UpdatedAt
            FROM document_states
            WHERE scope = @Scope AND document_key = @DocumentKey;
            """,

        DocumentSetApplied = """
            INSERT INTO document_states
                (scope, document_key, applied_version, resource_id, deleted, updated_at)
            VALUES (@Scope, @DocumentKey, @AppliedVersion, @ResourceId, @Deleted, @Now)
            ON CONFLICT (scope, document_key) DO UPDATE
                SET applied_version = excluded.applied_version, resource_id = excluded.resource_id,
                    deleted = excluded.deleted, updated_at = excluded.updated_at;
            """,

        OutboxInsert = """
            INSERT INTO outbox_messages (id, message_type, body, headers, created_at, attempts, trace_parent, trace_state)
            VALUES (@Id, @MessageType, @Body, @Headers, @CreatedAt, @Attempts, @TraceParent, @TraceState);
            """,

        OutboxClaim = $"""
            UPDATE outbox_messages
            SET locked_by = @Owner, locked_until = {SqliteNowPlus("@LeaseMilliseconds")}
            WHERE id IN
            (
                SELECT id
                FROM outbox_messages
                WHERE dispatched_at IS NULL AND parked_at IS NULL
                  AND (locked_until IS NULL OR locked_until < {SqliteNow})
                  AND (next_attempt_at IS NULL OR next_attempt_at <= {SqliteNow})
                ORDER BY attempts, created_at, id
                LIMIT @BatchSize
            )
            RETURNING id AS Id, message_type AS MessageType, body AS Body, headers AS Headers,
                      created_at AS CreatedAt, attempts AS Attempts, trace_parent AS TraceParent, trace_state AS TraceState;
            """,

        OutboxMarkDispatched = """
            UPDATE outbox_messages
            SET dispatched_at = @Now, locked_by = @Owner, locked_until = NULL
            WHERE id IN (SELECT value FROM json_each(@Ids)) AND dispatched_at IS NULL;
            """,

        OutboxMarkFailed = $"""
            UPDATE outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = {SqliteNowPlus("@RetryAfterMilliseconds")}
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        OutboxPark = """
            UPDATE outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL,
                next_attempt_at = NULL, parked_at = @Now
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        OutboxCountPending = "SELECT COUNT(*) FROM outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NULL;",

        OutboxCountParked = "SELECT COUNT(*) FROM outbox_messages WHERE dispatched_at IS NULL AND parked_at IS NOT NULL;",

        OutboxBacklog = """
            SELECT COUNT(CASE WHEN parked_at IS NULL THEN 1 END) AS Pending,
                   COUNT(CASE WHEN parked_at IS NOT NULL THEN 1 END) AS Parked,
                   MIN(CASE WHEN parked_at IS NULL THEN created_at END) AS OldestPendingAt
            FROM outbox_messages
            WHERE dispatched_at IS NULL;
            """,

        OutboxPurgeDispatched = """
            DELETE FROM outbox_messages
            WHERE rowid IN
            (
                SELECT rowid FROM outbox_messages
                WHERE dispatched_at < @OlderThan
                LIMIT @BatchSize
            );
            """,

        DeadLetterUpsert = """
            INSERT INTO dead_letters
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
                    attempt_count = dead_letters.attempt_count + excluded.attempt_count,
                    failure_count = dead_letters.failure_count + 1,
                    last_failed_at = excluded.last_failed_at, status = 'Pending', status_reason = NULL,
                    replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = excluded.updated_at
            RETURNING id AS Id, failure_count AS FailureCount;
            """,

        DeadLetterAuditInsert = """
            INSERT INTO dead_letter_audit (dead_letter_id, at, actor, action, outcome, detail)
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
            FROM dead_letters
            WHERE id = @Id;
            """,

        DeadLetterAuditSelect = """
            SELECT id AS Id, at AS At, actor AS Actor, action AS Action, outcome AS Outcome, detail AS Detail
            FROM dead_letter_audit
            WHERE dead_letter_id = @Id
            ORDER BY id;
            """,

        DeadLetterQuery = $$"""
            SELECT id AS Id, source_queue AS SourceQueue, message_type AS MessageType, message_id AS MessageId,
                   erp_key AS ErpKey, exception_type AS ExceptionType, exception_message AS ExceptionMessage,
                   failure_group AS FailureGroup, attempt_count AS AttemptCount, failure_count AS FailureCount,
                   first_failed_at AS FirstFailedAt, last_failed_at AS LastFailedAt, status AS Status,
                   status_reason AS StatusReason, replay_count AS ReplayCount
            FROM dead_letters
            {{PortableDeadLetterFilter}}
            ORDER BY last_failed_at DESC, id
            LIMIT @Take OFFSET @Skip;
            """,

        DeadLetterQueryCount = $$"""
            SELECT COUNT(*)
            FROM dead_letters
            {{PortableDeadLetterFilter}};
            """,

        DeadLetterGroups = $$"""
            SELECT failure_group AS FailureGroup, exception_type AS ExceptionType, normalized_message AS NormalizedMessage,
                   COUNT(*) AS Count, MIN(first_failed_at) AS FirstSeen, MAX(last_failed_at) AS LastSeen
            FROM dead_letters
            {{PortableDeadLetterFilter}}
            GROUP BY failure_group, exception_type, normalized_message
            ORDER BY COUNT(*) DESC, MAX(last_failed_at) DESC
            LIMIT 500;
            """,

        // The lease runs on the database's clock, never on an instance's own.
        DeadLetterClaimReplay = $$"""
            UPDATE dead_letters
            SET status = 'Replaying', replay_claimed_by = @Owner, replay_claim_expires_at = {{SqliteNowPlus("@LeaseMilliseconds")}},
                updated_at = @Now
            WHERE id = @Id AND status = 'Pending';
            """,

        DeadLetterSelectExpiredReplays = $$"""
            SELECT id AS Id, source_queue AS SourceQueue, replay_claimed_by AS Owner, replay_claim_expires_at AS ExpiresAt
            FROM dead_letters
            WHERE status = 'Replaying' AND replay_claim_expires_at < {{SqliteNow}} AND (@Id IS NULL OR id = @Id)
            ORDER BY replay_claim_expires_at
            LIMIT 500;
            """,

        DeadLetterReleaseExpiredReplay = $$"""
            UPDATE dead_letters
            SET status = 'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner AND replay_claim_expires_at < {{SqliteNow}};
            """,

        DeadLetterCompleteReplay = """
            UPDATE dead_letters
            SET status = 'Replayed', status_reason = NULL, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        DeadLetterReleaseReplay = """
            UPDATE dead_letters
            SET status = 'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        DeadLetterCompleteEdit = """
            UPDATE dead_letters
            SET status = 'Discarded', status_reason = @Reason, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        DeadLetterDiscard = """
            UPDATE dead_letters
            SET status = 'Discarded', status_reason = @Reason, updated_at = @Now
            WHERE id = @Id AND status IN ('Pending', 'Replayed');
            """,

        DeadLetterRestore = """
            UPDATE dead_letters
            SET status = 'Pending', status_reason = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Discarded';
            """,

        DeadLetterPurge = $$"""
            DELETE FROM dead_letters
            WHERE rowid IN
            (
                SELECT rowid FROM dead_letters
                WHERE last_failed_at < @OlderThan AND (status <> 'Replaying' OR replay_claim_expires_at < {{SqliteNow}})
                LIMIT @BatchSize
            );
            """,

        DeadLetterCountByStatus = """
            SELECT status AS Status, COUNT(*) AS Count FROM dead_letters GROUP BY status;
            """,
    };
}
