namespace Bridge.Host.Storage;

public sealed partial class SqlStatements
{
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
            WHERE state = 'Completed' AND updated_at < @OlderThan;
            """,

        // The conflict arm re-checks the claim on the latest row version, so of two racing claimers only one
        // sees it free.
        DocumentClaim = """
            INSERT INTO bridge.document_states AS s
                (scope, document_key, deleted, claimed_by, claim_expires_at, updated_at)
            VALUES (@Scope, @DocumentKey, false, @Owner, @ExpiresAt, @Now)
            ON CONFLICT (scope, document_key) DO UPDATE
                SET claimed_by = excluded.claimed_by, claim_expires_at = excluded.claim_expires_at
                WHERE s.claimed_by IS NULL OR s.claim_expires_at < @Now OR s.claimed_by = @Owner;
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
            INSERT INTO bridge.outbox_messages (id, message_type, body, headers, created_at, attempts)
            VALUES (@Id, @MessageType, @Body, @Headers, @CreatedAt, @Attempts);
            """,

        // SKIP LOCKED passes over rows another claimer has locked; a row whose lease another claimer has just
        // committed is re-checked against the WHERE clause and dropped.
        OutboxClaim = """
            WITH next AS
            (
                SELECT id
                FROM bridge.outbox_messages
                WHERE dispatched_at IS NULL AND (locked_until IS NULL OR locked_until < @Now)
                ORDER BY created_at, id
                LIMIT @BatchSize
                FOR UPDATE SKIP LOCKED
            )
            UPDATE bridge.outbox_messages AS m
            SET locked_by = @Owner, locked_until = @LockedUntil
            FROM next
            WHERE m.id = next.id
            RETURNING m.id AS Id, m.message_type AS MessageType, m.body AS Body, m.headers AS Headers,
                      m.created_at AS CreatedAt, m.attempts AS Attempts;
            """,

        OutboxMarkDispatched = """
            UPDATE bridge.outbox_messages
            SET dispatched_at = @Now, locked_by = @Owner, locked_until = NULL
            WHERE id = @Id AND dispatched_at IS NULL;
            """,

        OutboxMarkFailed = """
            UPDATE bridge.outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        OutboxCountPending = "SELECT count(*) FROM bridge.outbox_messages WHERE dispatched_at IS NULL;",

        OutboxPurgeDispatched = "DELETE FROM bridge.outbox_messages WHERE dispatched_at < @OlderThan;",
    };
}
