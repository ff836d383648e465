namespace Bridge.Host.Storage;

/// <remarks>
/// SQLite has one writer at a time, so a single statement is atomic against every other connection: the
/// claim statements need no lock hints, only the busy timeout <see cref="BridgeDatabase"/> sets.
/// </remarks>
public sealed partial class SqlStatements
{
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
            WHERE state = 'Completed' AND updated_at < @OlderThan;
            """,

        DocumentClaim = """
            INSERT INTO document_states
                (scope, document_key, deleted, claimed_by, claim_expires_at, updated_at)
            VALUES (@Scope, @DocumentKey, 0, @Owner, @ExpiresAt, @Now)
            ON CONFLICT (scope, document_key) DO UPDATE
                SET claimed_by = excluded.claimed_by, claim_expires_at = excluded.claim_expires_at
                WHERE document_states.claimed_by IS NULL
                   OR document_states.claim_expires_at < @Now
                   OR document_states.claimed_by = @Owner;
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
            INSERT INTO outbox_messages (id, message_type, body, headers, created_at, attempts)
            VALUES (@Id, @MessageType, @Body, @Headers, @CreatedAt, @Attempts);
            """,

        OutboxClaim = """
            UPDATE outbox_messages
            SET locked_by = @Owner, locked_until = @LockedUntil
            WHERE id IN
            (
                SELECT id
                FROM outbox_messages
                WHERE dispatched_at IS NULL AND (locked_until IS NULL OR locked_until < @Now)
                ORDER BY created_at, id
                LIMIT @BatchSize
            )
            RETURNING id AS Id, message_type AS MessageType, body AS Body, headers AS Headers,
                      created_at AS CreatedAt, attempts AS Attempts;
            """,

        OutboxMarkDispatched = """
            UPDATE outbox_messages
            SET dispatched_at = @Now, locked_by = @Owner, locked_until = NULL
            WHERE id = @Id AND dispatched_at IS NULL;
            """,

        OutboxMarkFailed = """
            UPDATE outbox_messages
            SET attempts = attempts + 1, last_error = @Error, locked_by = NULL, locked_until = NULL
            WHERE id = @Id AND locked_by = @Owner AND dispatched_at IS NULL;
            """,

        OutboxCountPending = "SELECT COUNT(*) FROM outbox_messages WHERE dispatched_at IS NULL;",

        OutboxPurgeDispatched = "DELETE FROM outbox_messages WHERE dispatched_at < @OlderThan;",
    };
}
