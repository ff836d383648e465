using Bridge.Host.Storage;

namespace Bridge.Host.Ingress;

/// <summary>
/// The HTTP door's statements per dialect: its own submissions, and the reads a status lookup makes of the outbox and the
/// dead letters (by the idempotency key, which is a result event's <c>source_message_id</c> and a dead letter's
/// <c>message_id</c>).
/// </summary>
public sealed class IngressSql
{
    /// <summary>Records a submission; affects no row when the key was submitted before (its row is then read and compared).</summary>
    public required string Insert { get; init; }

    public required string Select { get; init; }

    /// <summary>Marks the submission confirmed by the broker; affects no row when it already was.</summary>
    public required string Confirm { get; init; }

    /// <summary>The latest result event written for the key, dispatched or not, other than an <c>ErpMessageDeadLettered</c>.</summary>
    public required string SelectLatestEvent { get; init; }

    /// <summary>The latest dead letter kept for the key, by its message id (the door sends the key as the AMQP message id).</summary>
    public required string SelectLatestDeadLetter { get; init; }

    /// <summary>
    /// The latest <c>ErpMessageDeadLettered</c> written for the key: it names the dead letter when the message id is not the
    /// key (the in-memory transport's message ids are GUIDs).
    /// </summary>
    public required string SelectLatestDeadLetterEvent { get; init; }

    public required string SelectDeadLetterById { get; init; }

    /// <summary>Deletes at most <c>@BatchSize</c> submissions older than <c>@OlderThan</c>.</summary>
    public required string Purge { get; init; }

    public static IngressSql For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.PostgreSql => PostgreSql,
        SqlDialect.Sqlite => Sqlite,
        SqlDialect.SqlServer => SqlServer,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect."),
    };

    private const string Columns = """
        idempotency_key AS IdempotencyKey, message_type AS MessageType, fingerprint AS Fingerprint, client AS Client,
        created_at AS CreatedAt, confirmed_at AS ConfirmedAt
        """;

    private const string EventColumns = "message_type AS MessageType, body AS Body, created_at AS CreatedAt, dispatched_at AS DispatchedAt";

    private const string DeadLetterColumns = """
        id AS Id, status AS Status, status_reason AS StatusReason, exception_type AS ExceptionType, normalized_message AS Reason,
        first_failed_at AS FirstFailedAt, last_failed_at AS LastFailedAt, body AS Body, body_encoding AS BodyEncoding,
        content_type AS ContentType
        """;

    private static readonly IngressSql PostgreSql = new()
    {
        Insert = """
            INSERT INTO bridge.ingress_submissions (idempotency_key, message_type, fingerprint, client, created_at)
            VALUES (@IdempotencyKey, @MessageType, @Fingerprint, @Client, @Now)
            ON CONFLICT (idempotency_key) DO NOTHING;
            """,
        Select = $"SELECT {Columns} FROM bridge.ingress_submissions WHERE idempotency_key = @IdempotencyKey;",
        Confirm = """
            UPDATE bridge.ingress_submissions SET confirmed_at = @Now
            WHERE idempotency_key = @IdempotencyKey AND confirmed_at IS NULL;
            """,
        SelectLatestEvent = $"""
            SELECT {EventColumns} FROM bridge.outbox_messages
            WHERE source_message_id = @IdempotencyKey AND message_type <> 'ErpMessageDeadLettered'
            ORDER BY created_at DESC, id DESC
            LIMIT 1;
            """,
        SelectLatestDeadLetter = $"""
            SELECT {DeadLetterColumns} FROM bridge.dead_letters
            WHERE message_id = @IdempotencyKey
            ORDER BY last_failed_at DESC, id DESC
            LIMIT 1;
            """,
        SelectLatestDeadLetterEvent = $"""
            SELECT {EventColumns} FROM bridge.outbox_messages
            WHERE source_message_id = @IdempotencyKey AND message_type = 'ErpMessageDeadLettered'
            ORDER BY created_at DESC, id DESC
            LIMIT 1;
            """,
        SelectDeadLetterById = $"SELECT {DeadLetterColumns} FROM bridge.dead_letters WHERE id = @Id;",
        Purge = """
            DELETE FROM bridge.ingress_submissions
            WHERE idempotency_key IN
            (
                SELECT idempotency_key FROM bridge.ingress_submissions
                WHERE created_at < @OlderThan
                LIMIT @BatchSize
            );
            """,
    };

    private static readonly IngressSql Sqlite = new()
    {
        Insert = """
            INSERT INTO ingress_submissions (idempotency_key, message_type, fingerprint, client, created_at)
            VALUES (@IdempotencyKey, @MessageType, @Fingerprint, @Client, @Now)
            ON CONFLICT (idempotency_key) DO NOTHING;
            """,
        Select = $"SELECT {Columns} FROM ingress_submissions WHERE idempotency_key = @IdempotencyKey;",
        Confirm = """
            UPDATE ingress_submissions SET confirmed_at = @Now
            WHERE idempotency_key = @IdempotencyKey AND confirmed_at IS NULL;
            """,
        SelectLatestEvent = $"""
            SELECT {EventColumns} FROM outbox_messages
            WHERE source_message_id = @IdempotencyKey AND message_type <> 'ErpMessageDeadLettered'
            ORDER BY created_at DESC, id DESC
            LIMIT 1;
            """,
        SelectLatestDeadLetter = $"""
            SELECT {DeadLetterColumns} FROM dead_letters
            WHERE message_id = @IdempotencyKey
            ORDER BY last_failed_at DESC, id DESC
            LIMIT 1;
            """,
        SelectLatestDeadLetterEvent = $"""
            SELECT {EventColumns} FROM outbox_messages
            WHERE source_message_id = @IdempotencyKey AND message_type = 'ErpMessageDeadLettered'
            ORDER BY created_at DESC, id DESC
            LIMIT 1;
            """,
        SelectDeadLetterById = $"SELECT {DeadLetterColumns} FROM dead_letters WHERE id = @Id;",
        Purge = """
            DELETE FROM ingress_submissions
            WHERE rowid IN
            (
                SELECT rowid FROM ingress_submissions
                WHERE created_at < @OlderThan
                LIMIT @BatchSize
            );
            """,
    };

    private static readonly IngressSql SqlServer = new()
    {
        // The key's range lock (UPDLOCK, HOLDLOCK) makes a concurrent insert of the same key wait, then find it; a unique
        // violation that slips through is read as "already there" by the store.
        Insert = """
            INSERT INTO bridge.ingress_submissions (idempotency_key, message_type, fingerprint, client, created_at)
            SELECT @IdempotencyKey, @MessageType, @Fingerprint, @Client, @Now
            WHERE NOT EXISTS
            (
                SELECT 1 FROM bridge.ingress_submissions WITH (UPDLOCK, HOLDLOCK)
                WHERE idempotency_key = @IdempotencyKey
            );
            """,
        Select = $"SELECT {Columns} FROM bridge.ingress_submissions WHERE idempotency_key = @IdempotencyKey;",
        Confirm = """
            UPDATE bridge.ingress_submissions SET confirmed_at = @Now
            WHERE idempotency_key = @IdempotencyKey AND confirmed_at IS NULL;
            """,
        SelectLatestEvent = $"""
            SELECT TOP (1) {EventColumns} FROM bridge.outbox_messages
            WHERE source_message_id = @IdempotencyKey AND message_type <> N'ErpMessageDeadLettered'
            ORDER BY created_at DESC, id DESC;
            """,
        SelectLatestDeadLetter = $"""
            SELECT TOP (1) {DeadLetterColumns} FROM bridge.dead_letters
            WHERE message_id = @IdempotencyKey
            ORDER BY last_failed_at DESC, id DESC;
            """,
        SelectLatestDeadLetterEvent = $"""
            SELECT TOP (1) {EventColumns} FROM bridge.outbox_messages
            WHERE source_message_id = @IdempotencyKey AND message_type = N'ErpMessageDeadLettered'
            ORDER BY created_at DESC, id DESC;
            """,
        SelectDeadLetterById = $"SELECT {DeadLetterColumns} FROM bridge.dead_letters WHERE id = @Id;",
        Purge = """
            DELETE TOP (@BatchSize) FROM bridge.ingress_submissions
            WHERE created_at < @OlderThan;
            """,
    };
}
