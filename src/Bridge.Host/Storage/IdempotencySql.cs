namespace Bridge.Host.Storage;

/// <summary>The idempotency records' statements, the three dialects side by side.</summary>
public sealed class IdempotencySql
{
    /// <summary>Inserts an InProgress record unless the key exists; affects one row only for the caller that inserted.</summary>
    public required string Insert { get; init; }

    /// <summary>As <see cref="Insert"/>, answering the key as a row only to the caller that inserted it.</summary>
    public required string InsertReturning { get; init; }

    public required string Select { get; init; }

    public required string SetPendingAsyncTask { get; init; }

    /// <summary>
    /// Right before a call that journals nothing first (storage version 17): stamps record <c>@IdempotencyKey</c> as having sent
    /// one (the first time is kept), only while no edit of a dead letter holds the key — affects no row once one does. The row
    /// lock makes an edit's claim (<c>DeadLetterSql.HoldKeyForEdit</c>) and this stamp take turns, and the claim is refused
    /// once the stamp is there.
    /// </summary>
    public required string MarkUnjournaledSend { get; init; }

    /// <summary>
    /// The dead letter whose edit holds key <c>@IdempotencyKey</c> (storage version 17), as text, with the record's message
    /// type; no row, or a null id, when none does.
    /// </summary>
    public required string SelectEditHold { get; init; }

    /// <summary>
    /// In-progress records of <c>@MessageType</c> for <c>@DocumentKey</c> that still carry a pending-write marker (written only
    /// by Bridge versions from before the effect journal), oldest first.
    /// </summary>
    public required string SelectMarkedForDocument { get; init; }

    /// <summary>Completes the record only while it is in progress: of two deliveries committing, one completes it.</summary>
    public required string Complete { get; init; }

    public required string State { get; init; }

    /// <summary>Deletes up to <c>@BatchSize</c> completed records last updated before <c>@OlderThan</c>.</summary>
    public required string Purge { get; init; }

    /// <summary>
    /// The dead letters holding key <c>@IdempotencyKey</c> for <c>@MessageType</c> (storage version 16): each with whether it
    /// counts copy <c>@ReplayCopy</c> (a copy its replay sent and no capture took back) and whether an edit of it was begun.
    /// At most 20, those that decide first: edited ones, then the one counting the copy, then the oldest. Served by
    /// ix_dead_letters_idempotency_key.
    /// </summary>
    public required string HoldingLetters { get; init; }

    /// <summary>
    /// Deletes the in-progress record of <c>@IdempotencyKey</c> a held delivery began with its fingerprint (<c>@Fingerprint</c>):
    /// left, a later replay of the key's letter with another payload would be answered as an idempotency conflict.
    /// </summary>
    public required string DeleteBegun { get; init; }

    public static IdempotencySql For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.PostgreSql => PostgreSql,
        SqlDialect.Sqlite => Sqlite,
        SqlDialect.SqlServer => SqlServer,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect."),
    };

    private static readonly IdempotencySql PostgreSql = new()
    {
        // ON CONFLICT waits for a concurrent inserter of the same key to commit, then does nothing: one row affected
        // for exactly one caller.
        Insert = """
            INSERT INTO bridge.idempotency_records
                (idempotency_key, message_type, fingerprint, document_key, state, created_at, updated_at)
            VALUES (@IdempotencyKey, @MessageType, @Fingerprint, @DocumentKey, 'InProgress', @Now, @Now)
            ON CONFLICT (idempotency_key) DO NOTHING;
            """,

        InsertReturning = """
            INSERT INTO bridge.idempotency_records
                (idempotency_key, message_type, fingerprint, document_key, state, created_at, updated_at)
            VALUES (@IdempotencyKey, @MessageType, @Fingerprint, @DocumentKey, 'InProgress', @Now, @Now)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING idempotency_key AS IdempotencyKey;
            """,

        Select = """
            SELECT idempotency_key AS IdempotencyKey, message_type AS MessageType, fingerprint AS Fingerprint,
                   document_key AS DocumentKey, state AS State, outcome AS Outcome, resource_id AS ResourceId,
                   pending_async_task_id AS PendingAsyncTaskId, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM bridge.idempotency_records
            WHERE idempotency_key = @IdempotencyKey;
            """,

        SetPendingAsyncTask = """
            UPDATE bridge.idempotency_records
            SET pending_async_task_id = @AsyncTaskId, updated_at = @Now
            WHERE idempotency_key = @IdempotencyKey;
            """,

        MarkUnjournaledSend = """
            UPDATE bridge.idempotency_records
            SET unjournaled_send_at = COALESCE(unjournaled_send_at, @Now)
            WHERE idempotency_key = @IdempotencyKey AND edit_letter_id IS NULL;
            """,

        SelectEditHold = """
            SELECT CAST(edit_letter_id AS text) AS LetterId, message_type AS MessageType FROM bridge.idempotency_records WHERE idempotency_key = @IdempotencyKey;
            """,

        // Served by ix_idempotency_records_document_key; only markers from before the effect journal are non-null.
        SelectMarkedForDocument = """
            SELECT idempotency_key AS IdempotencyKey, message_type AS MessageType, fingerprint AS Fingerprint,
                   document_key AS DocumentKey, state AS State, outcome AS Outcome, resource_id AS ResourceId,
                   pending_async_task_id AS PendingAsyncTaskId, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM bridge.idempotency_records
            WHERE document_key = @DocumentKey AND message_type = @MessageType AND state = 'InProgress'
              AND pending_async_task_id IS NOT NULL
            ORDER BY created_at, idempotency_key;
            """,

        Complete = """
            UPDATE bridge.idempotency_records
            SET state = 'Completed', outcome = @Outcome, resource_id = @ResourceId,
                pending_async_task_id = NULL, updated_at = @Now
            WHERE idempotency_key = @IdempotencyKey AND state = 'InProgress';
            """,

        State = """
            SELECT state FROM bridge.idempotency_records WHERE idempotency_key = @IdempotencyKey;
            """,

        Purge = """
            DELETE FROM bridge.idempotency_records
            WHERE idempotency_key IN
            (
                SELECT idempotency_key FROM bridge.idempotency_records
                WHERE state = 'Completed' AND updated_at < @OlderThan
                LIMIT @BatchSize
            );
            """,

        HoldingLetters = """
            SELECT d.id AS Id,
                   (SELECT COUNT(*) FROM bridge.dead_letter_replay_copies c WHERE c.dead_letter_id = d.id AND c.copy_id = @ReplayCopy) AS CopyCounted,
                   CASE WHEN d.edit_message_id IS NULL THEN 0 ELSE 1 END AS Edited
            FROM bridge.dead_letters d
            WHERE d.idempotency_key = @IdempotencyKey AND d.message_type = @MessageType
            ORDER BY Edited DESC, CopyCounted DESC, d.first_failed_at LIMIT 20;
            """,

        DeleteBegun = """
            DELETE FROM bridge.idempotency_records
            WHERE idempotency_key = @IdempotencyKey AND state = 'InProgress' AND fingerprint = @Fingerprint AND pending_async_task_id IS NULL;
            """,
    };

    private static readonly IdempotencySql Sqlite = new()
    {
        Insert = """
            INSERT INTO idempotency_records
                (idempotency_key, message_type, fingerprint, document_key, state, created_at, updated_at)
            VALUES (@IdempotencyKey, @MessageType, @Fingerprint, @DocumentKey, 'InProgress', @Now, @Now)
            ON CONFLICT (idempotency_key) DO NOTHING;
            """,

        InsertReturning = """
            INSERT INTO idempotency_records
                (idempotency_key, message_type, fingerprint, document_key, state, created_at, updated_at)
            VALUES (@IdempotencyKey, @MessageType, @Fingerprint, @DocumentKey, 'InProgress', @Now, @Now)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING idempotency_key AS IdempotencyKey;
            """,

        Select = """
            SELECT idempotency_key AS IdempotencyKey, message_type AS MessageType, fingerprint AS Fingerprint,
                   document_key AS DocumentKey, state AS State, outcome AS Outcome, resource_id AS ResourceId,
                   pending_async_task_id AS PendingAsyncTaskId, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM idempotency_records
            WHERE idempotency_key = @IdempotencyKey;
            """,

        SetPendingAsyncTask = """
            UPDATE idempotency_records
            SET pending_async_task_id = @AsyncTaskId, updated_at = @Now
            WHERE idempotency_key = @IdempotencyKey;
            """,

        MarkUnjournaledSend = """
            UPDATE idempotency_records
            SET unjournaled_send_at = COALESCE(unjournaled_send_at, @Now)
            WHERE idempotency_key = @IdempotencyKey AND edit_letter_id IS NULL;
            """,

        SelectEditHold = """
            SELECT edit_letter_id AS LetterId, message_type AS MessageType FROM idempotency_records WHERE idempotency_key = @IdempotencyKey;
            """,

        // Served by ix_idempotency_records_document_key; only markers from before the effect journal are non-null.
        SelectMarkedForDocument = """
            SELECT idempotency_key AS IdempotencyKey, message_type AS MessageType, fingerprint AS Fingerprint,
                   document_key AS DocumentKey, state AS State, outcome AS Outcome, resource_id AS ResourceId,
                   pending_async_task_id AS PendingAsyncTaskId, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM idempotency_records
            WHERE document_key = @DocumentKey AND message_type = @MessageType AND state = 'InProgress'
              AND pending_async_task_id IS NOT NULL
            ORDER BY created_at, idempotency_key;
            """,

        Complete = """
            UPDATE idempotency_records
            SET state = 'Completed', outcome = @Outcome, resource_id = @ResourceId,
                pending_async_task_id = NULL, updated_at = @Now
            WHERE idempotency_key = @IdempotencyKey AND state = 'InProgress';
            """,

        State = """
            SELECT state FROM idempotency_records WHERE idempotency_key = @IdempotencyKey;
            """,

        Purge = """
            DELETE FROM idempotency_records
            WHERE rowid IN
            (
                SELECT rowid FROM idempotency_records
                WHERE state = 'Completed' AND updated_at < @OlderThan
                LIMIT @BatchSize
            );
            """,

        HoldingLetters = """
            SELECT d.id AS Id,
                   (SELECT COUNT(*) FROM dead_letter_replay_copies c WHERE c.dead_letter_id = d.id AND c.copy_id = @ReplayCopy) AS CopyCounted,
                   CASE WHEN d.edit_message_id IS NULL THEN 0 ELSE 1 END AS Edited
            FROM dead_letters d
            WHERE d.idempotency_key = @IdempotencyKey AND d.message_type = @MessageType
            ORDER BY Edited DESC, CopyCounted DESC, d.first_failed_at LIMIT 20;
            """,

        DeleteBegun = """
            DELETE FROM idempotency_records
            WHERE idempotency_key = @IdempotencyKey AND state = 'InProgress' AND fingerprint = @Fingerprint AND pending_async_task_id IS NULL;
            """,
    };

    private static readonly IdempotencySql SqlServer = new()
    {
        // UPDLOCK + HOLDLOCK take a key-range lock, so a concurrent caller waits and then sees the row instead of
        // both passing NOT EXISTS; the store still treats a duplicate-key error (2627/2601) as "already there".
        Insert = """
            INSERT INTO bridge.idempotency_records
                (idempotency_key, message_type, fingerprint, document_key, state, created_at, updated_at)
            SELECT @IdempotencyKey, @MessageType, @Fingerprint, @DocumentKey, N'InProgress', @Now, @Now
            WHERE NOT EXISTS
            (
                SELECT 1 FROM bridge.idempotency_records WITH (UPDLOCK, HOLDLOCK)
                WHERE idempotency_key = @IdempotencyKey
            );
            """,

        InsertReturning = """
            INSERT INTO bridge.idempotency_records
                (idempotency_key, message_type, fingerprint, document_key, state, created_at, updated_at)
            OUTPUT inserted.idempotency_key AS IdempotencyKey
            SELECT @IdempotencyKey, @MessageType, @Fingerprint, @DocumentKey, N'InProgress', @Now, @Now
            WHERE NOT EXISTS
            (
                SELECT 1 FROM bridge.idempotency_records WITH (UPDLOCK, HOLDLOCK)
                WHERE idempotency_key = @IdempotencyKey
            );
            """,

        Select = """
            SELECT idempotency_key AS IdempotencyKey, message_type AS MessageType, fingerprint AS Fingerprint,
                   document_key AS DocumentKey, state AS State, outcome AS Outcome, resource_id AS ResourceId,
                   pending_async_task_id AS PendingAsyncTaskId, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM bridge.idempotency_records
            WHERE idempotency_key = @IdempotencyKey;
            """,

        SetPendingAsyncTask = """
            UPDATE bridge.idempotency_records
            SET pending_async_task_id = @AsyncTaskId, updated_at = @Now
            WHERE idempotency_key = @IdempotencyKey;
            """,

        MarkUnjournaledSend = """
            UPDATE bridge.idempotency_records
            SET unjournaled_send_at = COALESCE(unjournaled_send_at, @Now)
            WHERE idempotency_key = @IdempotencyKey AND edit_letter_id IS NULL;
            """,

        SelectEditHold = """
            SELECT CONVERT(nvarchar(36), edit_letter_id) AS LetterId, message_type AS MessageType FROM bridge.idempotency_records WHERE idempotency_key = @IdempotencyKey;
            """,

        // Served by ix_idempotency_records_document_key; only markers from before the effect journal are non-null.
        SelectMarkedForDocument = """
            SELECT idempotency_key AS IdempotencyKey, message_type AS MessageType, fingerprint AS Fingerprint,
                   document_key AS DocumentKey, state AS State, outcome AS Outcome, resource_id AS ResourceId,
                   pending_async_task_id AS PendingAsyncTaskId, created_at AS CreatedAt, updated_at AS UpdatedAt
            FROM bridge.idempotency_records
            WHERE document_key = @DocumentKey AND message_type = @MessageType AND state = N'InProgress'
              AND pending_async_task_id IS NOT NULL
            ORDER BY created_at, idempotency_key;
            """,

        Complete = """
            UPDATE bridge.idempotency_records
            SET state = N'Completed', outcome = @Outcome, resource_id = @ResourceId,
                pending_async_task_id = NULL, updated_at = @Now
            WHERE idempotency_key = @IdempotencyKey AND state = N'InProgress';
            """,

        State = """
            SELECT state FROM bridge.idempotency_records WHERE idempotency_key = @IdempotencyKey;
            """,

        // TOP keeps each statement's locks far below the escalation threshold (5 000), so a purge never locks the table.
        Purge = """
            DELETE TOP (@BatchSize) FROM bridge.idempotency_records
            WHERE state = N'Completed' AND updated_at < @OlderThan;
            """,

        HoldingLetters = """
            SELECT TOP (20) d.id AS Id,
                   (SELECT COUNT(*) FROM bridge.dead_letter_replay_copies c WHERE c.dead_letter_id = d.id AND c.copy_id = @ReplayCopy) AS CopyCounted,
                   CASE WHEN d.edit_message_id IS NULL THEN 0 ELSE 1 END AS Edited
            FROM bridge.dead_letters d
            WHERE d.idempotency_key = @IdempotencyKey AND d.message_type = @MessageType
            ORDER BY Edited DESC, CopyCounted DESC, d.first_failed_at;
            """,

        DeleteBegun = """
            DELETE FROM bridge.idempotency_records
            WHERE idempotency_key = @IdempotencyKey AND state = N'InProgress' AND fingerprint = @Fingerprint AND pending_async_task_id IS NULL;
            """,
    };
}
