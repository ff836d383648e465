namespace Bridge.Host.Storage;

/// <summary>
/// The dead letters' statements (capture, queries, replay claims, audit and purge), the three dialects side by side.
/// </summary>
public sealed class DeadLetterSql
{
    /// <summary>
    /// Stores a dead letter, or — when the queue already holds one for the same message (same <c>identity_hash</c>: message
    /// id and body; a redelivery after a crash, a replay that failed again) — counts the new failure on it and makes it
    /// Pending again (a Discarded one stays Discarded); a copy a replay of it sent (<c>@ReplayOf</c>) counts as one fewer in
    /// the queue. Returns its id, failure count and status.
    /// </summary>
    public required string Upsert { get; init; }

    public required string AuditInsert { get; init; }

    public required string Select { get; init; }

    public required string AuditSelect { get; init; }

    /// <summary>One page of summaries matching the optional filters (a null parameter matches everything), newest failure first.</summary>
    public required string Query { get; init; }

    public required string QueryCount { get; init; }

    /// <summary>Counts by failure cause (exception type + normalised message) over the rows matching the filters.</summary>
    /// <summary>The 500 largest failure groups: messages that normalisation cannot collapse must not return every dead letter.</summary>
    public required string Groups { get; init; }

    /// <summary>
    /// A replay's claim: Pending to Replaying for one owner, leased for <c>@LeaseMilliseconds</c> from the database's now;
    /// affects one row only for the winner. Never a letter an edit was begun for (<c>edit_message_id</c>); counts the copy of
    /// the original it is about to send (<c>original_sent_at</c>, <c>original_copies</c>), in the same statement.
    /// </summary>
    public required string ClaimReplay { get; init; }

    /// <summary>
    /// An edit's claim, as <see cref="ClaimReplay"/>: never while a replayed copy of the original may be in the queue
    /// (<c>original_sent_at</c>), nor when another edit was begun, nor while an effect of the letter's key is in the journal
    /// in any state but <c>NotApplied</c> (sent, applied or unknown: the edit could be a second one; judged after
    /// <see cref="HoldKeyForEdit"/>), nor once a delivery of the key sent a call that journals nothing
    /// (<c>IdempotencySql.MarkUnjournaledSend</c>) or has an async task pending; marks the letter with <c>@EditMessageId</c>.
    /// </summary>
    public required string ClaimEdit { get; init; }

    /// <summary>Up to 500 Replaying dead letters (one, when <c>@Id</c> is set) whose claim expired by the database's clock: a replay that died unrecorded.</summary>
    public required string SelectExpiredReplays { get; init; }

    /// <summary>Replaying to Pending, if <c>@Owner</c>'s claim is still the one there and expired by the database's clock.</summary>
    public required string ReleaseExpiredReplay { get; init; }

    public required string CompleteReplay { get; init; }

    public required string ReleaseReplay { get; init; }

    /// <summary>Counts the copy a replay's claim is about to send, by the id it carries (<c>@CopyId</c>).</summary>
    public required string InsertReplayCopy { get; init; }

    /// <summary>Takes a copy of letter <c>@ReplayOf</c> away by its id: one row at most, the first time only.</summary>
    public required string DeleteReplayCopy { get; init; }

    /// <summary>Archives (Discarded) the original of an edited message, while its claimer still holds it.</summary>
    public required string CompleteEdit { get; init; }

    public required string Discard { get; init; }

    public required string Restore { get; init; }

    /// <summary>
    /// Deletes up to <c>@BatchSize</c> dead letters last failed before <c>@OlderThan</c>, with their audit, except ones a live
    /// replay holds (a Replaying one whose claim expired by the database's clock is deleted like any other), ones an edit
    /// was begun for and not certainly sent, and ones whose original a replay sent since <c>@OlderThan</c>. A letter holding a
    /// key (storage version 16) that was replaced by an edit or discarded stays until a delivery of its key was answered: it
    /// is what holds the key, and gone, the ERP sending the message again would be applied beside the edit, or against what
    /// the operator decided.
    /// </summary>
    public required string Purge { get; init; }

    public required string CountByStatus { get; init; }

    /// <summary>
    /// Up to 100 ids of dead letters holding no key (captured before storage version 16, or whose key could not be read),
    /// after <c>@After</c> in id order.
    /// </summary>
    public required string SelectKeyless { get; init; }

    /// <summary>Gives a letter that holds no key its message's key (<c>@IdempotencyKey</c>).</summary>
    public required string SetIdempotencyKey { get; init; }

    /// <summary>
    /// Locks every letter holding the key of letter <c>@Id</c> (for its message type), in id order, for the claim that follows
    /// in the same transaction: a replay's and an edit's claim each judge the key's other letters, and without the locks two
    /// claims on two letters of one key, each reading the other's row as of before the other committed, could both pass.
    /// SQLite's write transactions run one at a time already.
    /// </summary>
    public required string LockKeyLetters { get; init; }

    /// <summary>
    /// The edit's hold on its key (storage version 17): letter <c>@Id</c>'s key's idempotency record names the letter (the first
    /// edited, when another already did), in the edit claim's transaction and before the claim judges the journal. Written
    /// first, it waits for every begin of an effect reading the record under its lock (<c>EffectJournalSql</c>), so the
    /// claim that follows sees their entries; a begin after it reads the hold and sends nothing. No record, no hold.
    /// </summary>
    public required string HoldKeyForEdit { get; init; }

    /// <summary>
    /// Takes one copy off letter <c>@ReplayOf</c>'s count, for a capture that deleted the copy's row but lands on another
    /// letter (a message without a message id is a letter of its own at every capture).
    /// </summary>
    public required string UncountReplayCopy { get; init; }

    /// <summary>
    /// Letter <c>@Id</c>'s key, whether a delivery of it was answered (its record Completed for the letter's message type), and
    /// up to 20 other letters of the key that count a copy or were edited (one row with no other letter when there is none),
    /// the key's effect in the journal that most needs an operator (Unknown, then open, then Applied), as <c>state:effect id</c>, and whether a delivery of
    /// the key sent a call the journal does not record (or an async task of it is pending): why a claim judged by the key was
    /// refused.
    /// </summary>
    public required string KeyHolders { get; init; }

    public static DeadLetterSql For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.PostgreSql => PostgreSql,
        SqlDialect.Sqlite => Sqlite,
        SqlDialect.SqlServer => SqlServer,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect."),
    };

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

    private static readonly DeadLetterSql PostgreSql = new()
    {
        // ON CONFLICT waits for a concurrent capture of the same message to commit, then counts this failure on its row.
        // A copy that a replay of this letter sent (@ReplayOf, from its header) failing again is no longer in the queue: one
        // copy fewer, and with none left an edit may be sent. Any other copy (the ERP's own) says nothing of the replayed ones.
        // The edit's marker is never cleared: the edit may be in the queue whatever becomes of the original.
        Upsert = """
            INSERT INTO bridge.dead_letters AS d
                (id, source_queue, message_type, message_id, identity_hash, erp_key, correlation_id, content_type, body, body_encoding,
                 headers, exception_type, exception_message, stack_trace, failure_group, normalized_message,
                 attempt_count, failure_count, first_failed_at, last_failed_at, status, replay_count, updated_at, idempotency_key)
            VALUES (@Id, @SourceQueue, @MessageType, @MessageId, @IdentityHash, @ErpKey, @CorrelationId, @ContentType, @Body, @BodyEncoding,
                    @Headers, @ExceptionType, @ExceptionMessage, @StackTrace, @FailureGroup, @NormalizedMessage,
                    @AttemptCount, 1, @FailedAt, @FailedAt, 'Pending', 0, @FailedAt, @IdempotencyKey)
            ON CONFLICT (source_queue, identity_hash) WHERE identity_hash IS NOT NULL DO UPDATE
                SET exception_type = excluded.exception_type, exception_message = excluded.exception_message,
                    stack_trace = excluded.stack_trace, failure_group = excluded.failure_group,
                    normalized_message = excluded.normalized_message,
                    attempt_count = d.attempt_count + excluded.attempt_count, failure_count = d.failure_count + 1,
                    last_failed_at = excluded.last_failed_at,
                    status = CASE WHEN d.status = 'Discarded' THEN d.status ELSE 'Pending' END,
                    status_reason = CASE WHEN d.status = 'Discarded' THEN d.status_reason ELSE NULL END,
                    original_copies = CASE WHEN d.id = @ReplayOf AND d.original_copies > 0 THEN d.original_copies - 1 ELSE d.original_copies END,
                    original_sent_at = CASE WHEN d.id = @ReplayOf AND d.original_copies <= 1 THEN NULL ELSE d.original_sent_at END,
                    idempotency_key = COALESCE(d.idempotency_key, excluded.idempotency_key),
                    replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = excluded.updated_at
            RETURNING d.id AS Id, d.failure_count AS FailureCount, d.status AS Status;
            """,

        AuditInsert = """
            INSERT INTO bridge.dead_letter_audit (dead_letter_id, at, actor, action, outcome, detail)
            VALUES (@DeadLetterId, @At, @Actor, @Action, @Outcome, @Detail);
            """,

        Select = """
            SELECT id AS Id, source_queue AS SourceQueue, message_type AS MessageType, message_id AS MessageId,
                   erp_key AS ErpKey, exception_type AS ExceptionType, exception_message AS ExceptionMessage,
                   failure_group AS FailureGroup, attempt_count AS AttemptCount, failure_count AS FailureCount,
                   first_failed_at AS FirstFailedAt, last_failed_at AS LastFailedAt, status AS Status,
                   status_reason AS StatusReason, replay_count AS ReplayCount,
                   correlation_id AS CorrelationId, content_type AS ContentType, body AS Body, body_encoding AS BodyEncoding,
                   headers AS Headers, stack_trace AS StackTrace, normalized_message AS NormalizedMessage,
                   replay_claimed_by AS ReplayClaimedBy, replay_claim_expires_at AS ReplayClaimExpiresAt, updated_at AS UpdatedAt,
                   edit_message_id AS EditMessageId, original_sent_at AS OriginalSentAt
            FROM bridge.dead_letters
            WHERE id = @Id;
            """,

        AuditSelect = """
            SELECT id AS Id, at AS At, actor AS Actor, action AS Action, outcome AS Outcome, detail AS Detail
            FROM bridge.dead_letter_audit
            WHERE dead_letter_id = @Id
            ORDER BY id;
            """,

        // The CASTs give an unset (null) filter a type, which PostgreSQL cannot infer from "IS NULL" alone.
        Query = $$"""
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

        QueryCount = $$"""
            SELECT count(*)
            FROM bridge.dead_letters
            {{PostgreSqlDeadLetterFilter}};
            """,

        Groups = $$"""
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
        // Never a letter an edit was begun for: whether the edit reached the queue is unknown until it is answered, and
        // replayed, the original could be applied beside it. The markers are the row's own columns, so a claim that waited
        // for the row sees the ones written by the transaction it waited for (a subquery on another table would not).
        ClaimReplay = """
            UPDATE bridge.dead_letters
            SET status = 'Replaying', replay_claimed_by = @Owner,
                replay_claim_expires_at = statement_timestamp() + @LeaseMilliseconds * interval '1 millisecond',
                original_sent_at = statement_timestamp(), original_copies = original_copies + 1,
                updated_at = @Now
            WHERE id = @Id AND status = 'Pending' AND edit_message_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM bridge.dead_letters o
                              WHERE o.idempotency_key = dead_letters.idempotency_key AND o.message_type = dead_letters.message_type
                                AND o.edit_message_id IS NOT NULL);
            """,

        // Only the edit already begun, if any (the same edit is the same message, applied once); never while a replayed copy
        // of the original may be in the queue, nor beside another letter of the same key replayed or edited, nor once a
        // delivery of the key was answered (storage version 16: the key's letters and record), nor while an effect of the key
        // may have reached ActivePlatform (storage version 17: its journal, read after HoldKeyForEdit waited for its begins).
        ClaimEdit = """
            UPDATE bridge.dead_letters
            SET status = 'Replaying', replay_claimed_by = @Owner,
                replay_claim_expires_at = statement_timestamp() + @LeaseMilliseconds * interval '1 millisecond',
                edit_message_id = @EditMessageId,
                updated_at = @Now
            WHERE id = @Id AND status = 'Pending' AND original_sent_at IS NULL
              AND (edit_message_id IS NULL OR edit_message_id = @EditMessageId)
              AND NOT EXISTS (SELECT 1 FROM bridge.dead_letters o
                              WHERE o.idempotency_key = dead_letters.idempotency_key AND o.message_type = dead_letters.message_type AND o.id <> dead_letters.id
                                AND (o.original_copies > 0 OR o.edit_message_id IS NOT NULL))
              AND NOT EXISTS (SELECT 1 FROM bridge.idempotency_records r
                              WHERE r.idempotency_key = dead_letters.idempotency_key AND r.message_type = dead_letters.message_type AND r.state = 'Completed')
              AND NOT EXISTS (SELECT 1 FROM bridge.effect_journal j
                              WHERE j.owner_key = dead_letters.idempotency_key AND j.state <> 'NotApplied')
              AND NOT EXISTS (SELECT 1 FROM bridge.idempotency_records s
                              WHERE s.idempotency_key = dead_letters.idempotency_key AND (s.unjournaled_send_at IS NOT NULL OR s.pending_async_task_id IS NOT NULL));
            """,

        SelectExpiredReplays = """
            SELECT id AS Id, source_queue AS SourceQueue, replay_claimed_by AS Owner, replay_claim_expires_at AS ExpiresAt,
                   edit_message_id AS EditMessageId
            FROM bridge.dead_letters
            WHERE status = 'Replaying' AND replay_claim_expires_at < statement_timestamp() AND (CAST(@Id AS uuid) IS NULL OR id = @Id)
            ORDER BY replay_claim_expires_at
            LIMIT 500;
            """,

        ReleaseExpiredReplay = """
            UPDATE bridge.dead_letters
            SET status = 'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner AND replay_claim_expires_at < statement_timestamp();
            """,

        CompleteReplay = """
            UPDATE bridge.dead_letters
            SET status = 'Replayed', status_reason = NULL, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        // @Unsent = 1: a replay's send that certainly never reached the broker takes back the copy its claim counted.
        ReleaseReplay = """
            UPDATE bridge.dead_letters
            SET status = 'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now,
                original_copies = CASE WHEN @Unsent = 1 AND original_copies > 0 THEN original_copies - 1 ELSE original_copies END,
                original_sent_at = CASE WHEN @Unsent = 1 AND original_copies <= 1 THEN NULL ELSE original_sent_at END
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        InsertReplayCopy = """
            INSERT INTO bridge.dead_letter_replay_copies (dead_letter_id, copy_id, claimed_at) VALUES (@Id, @CopyId, @Now);
            """,

        DeleteReplayCopy = """
            DELETE FROM bridge.dead_letter_replay_copies WHERE dead_letter_id = @ReplayOf AND copy_id = @CopyId;
            """,

        CompleteEdit = """
            UPDATE bridge.dead_letters
            SET status = 'Discarded', status_reason = @Reason, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        Discard = """
            UPDATE bridge.dead_letters
            SET status = 'Discarded', status_reason = @Reason, updated_at = @Now
            WHERE id = @Id AND status IN ('Pending', 'Replayed');
            """,

        // Never the original of an edit that was certainly sent (archived by it, or its confirm came after a capture): there is
        // nothing left to do with it. A letter discarded after its edit's send failed may come back, to send that same edit:
        // the claims keep it from anything else (edit_message_id is kept through discard and restore).
        Restore = """
            UPDATE bridge.dead_letters
            SET status = 'Pending', status_reason = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Discarded'
              AND NOT EXISTS (SELECT 1 FROM bridge.dead_letter_audit a
                              WHERE a.dead_letter_id = @Id AND a.action = 'EditAndReplay' AND a.outcome IN ('Discarded', 'Sent'));
            """,

        // Kept past retention: a letter an edit was begun for and not certainly sent (deleted, the original failing again
        // would be a fresh Pending letter a bulk replay sends beside the edit), and one whose original a replay sent within
        // retention (a copy may still be in the queue; deleted, a fresh letter of the ERP's next copy could be edited beside it).
        // FOR UPDATE: a row a claim holds is re-checked once the claim commits (the DELETE itself would only re-check "id IN").
        Purge = """
            DELETE FROM bridge.dead_letters
            WHERE id IN
            (
                SELECT id FROM bridge.dead_letters d
                WHERE last_failed_at < @OlderThan AND (status <> 'Replaying' OR replay_claim_expires_at < statement_timestamp())
                  AND (original_sent_at IS NULL OR original_sent_at < @OlderThan)
                  AND (edit_message_id IS NULL
                       OR EXISTS (SELECT 1 FROM bridge.dead_letter_audit a
                                  WHERE a.dead_letter_id = d.id AND a.action = 'EditAndReplay' AND a.outcome IN ('Discarded', 'Sent')))
                  AND (d.idempotency_key IS NULL OR (d.edit_message_id IS NULL AND d.status <> 'Discarded')
                       OR EXISTS (SELECT 1 FROM bridge.idempotency_records r WHERE r.idempotency_key = d.idempotency_key AND r.message_type = d.message_type AND r.state = 'Completed'))
                LIMIT @BatchSize
                FOR UPDATE
            );
            """,

        CountByStatus = """
            SELECT status AS Status, count(*) AS Count FROM bridge.dead_letters GROUP BY status;
            """,

        SelectKeyless = """
            SELECT id FROM bridge.dead_letters WHERE idempotency_key IS NULL AND id > @After ORDER BY id LIMIT 100;
            """,

        SetIdempotencyKey = """
            UPDATE bridge.dead_letters SET idempotency_key = @IdempotencyKey WHERE id = @Id AND idempotency_key IS NULL;
            """,

        LockKeyLetters = """
            SELECT o.id FROM bridge.dead_letters d
            JOIN bridge.dead_letters o ON o.idempotency_key = d.idempotency_key AND o.message_type = d.message_type
            WHERE d.id = @Id
            ORDER BY o.id
            FOR UPDATE OF o;
            """,

        HoldKeyForEdit = """
            UPDATE bridge.idempotency_records
            SET edit_letter_id = COALESCE(edit_letter_id, @Id)
            WHERE idempotency_key = (SELECT idempotency_key FROM bridge.dead_letters WHERE id = @Id);
            """,

        UncountReplayCopy = """
            UPDATE bridge.dead_letters
            SET original_copies = original_copies - 1,
                original_sent_at = CASE WHEN original_copies <= 1 THEN NULL ELSE original_sent_at END
            WHERE id = @ReplayOf AND original_copies > 0;
            """,

        KeyHolders = """
            SELECT d.idempotency_key AS IdempotencyKey,
                   (SELECT COUNT(*) FROM bridge.idempotency_records r
                    WHERE r.idempotency_key = d.idempotency_key AND r.message_type = d.message_type AND r.state = 'Completed') AS Answered,
                   o.id AS OtherId, o.status AS OtherStatus, o.original_copies AS OtherCopies,
                   CASE WHEN o.edit_message_id IS NULL THEN 0 ELSE 1 END AS OtherEdited,
                   (SELECT j.state || ':' || j.effect_id FROM bridge.effect_journal j
                    WHERE j.owner_key = d.idempotency_key AND j.state <> 'NotApplied'
                    ORDER BY CASE j.state WHEN 'Unknown' THEN 0 WHEN 'Applied' THEN 2 ELSE 1 END, j.sent_at, j.effect_id LIMIT 1) AS Effect,
                   (SELECT COUNT(*) FROM bridge.idempotency_records s
                    WHERE s.idempotency_key = d.idempotency_key AND (s.unjournaled_send_at IS NOT NULL OR s.pending_async_task_id IS NOT NULL)) AS Sent
            FROM bridge.dead_letters d
            LEFT JOIN bridge.dead_letters o
                ON o.idempotency_key = d.idempotency_key AND o.message_type = d.message_type AND o.id <> d.id
               AND (o.original_copies > 0 OR o.edit_message_id IS NOT NULL)
            WHERE d.id = @Id
            ORDER BY OtherEdited DESC LIMIT 20;
            """,
    };

    private static readonly DeadLetterSql Sqlite = new()
    {
        Upsert = """
            INSERT INTO dead_letters
                (id, source_queue, message_type, message_id, identity_hash, erp_key, correlation_id, content_type, body, body_encoding,
                 headers, exception_type, exception_message, stack_trace, failure_group, normalized_message,
                 attempt_count, failure_count, first_failed_at, last_failed_at, status, replay_count, updated_at, idempotency_key)
            VALUES (@Id, @SourceQueue, @MessageType, @MessageId, @IdentityHash, @ErpKey, @CorrelationId, @ContentType, @Body, @BodyEncoding,
                    @Headers, @ExceptionType, @ExceptionMessage, @StackTrace, @FailureGroup, @NormalizedMessage,
                    @AttemptCount, 1, @FailedAt, @FailedAt, 'Pending', 0, @FailedAt, @IdempotencyKey)
            ON CONFLICT (source_queue, identity_hash) WHERE identity_hash IS NOT NULL DO UPDATE
                SET exception_type = excluded.exception_type, exception_message = excluded.exception_message,
                    stack_trace = excluded.stack_trace, failure_group = excluded.failure_group,
                    normalized_message = excluded.normalized_message,
                    attempt_count = dead_letters.attempt_count + excluded.attempt_count,
                    failure_count = dead_letters.failure_count + 1,
                    last_failed_at = excluded.last_failed_at,
                    status = CASE WHEN dead_letters.status = 'Discarded' THEN dead_letters.status ELSE 'Pending' END,
                    status_reason = CASE WHEN dead_letters.status = 'Discarded' THEN dead_letters.status_reason ELSE NULL END,
                    original_copies = CASE WHEN dead_letters.id = @ReplayOf AND dead_letters.original_copies > 0 THEN dead_letters.original_copies - 1 ELSE dead_letters.original_copies END,
                    original_sent_at = CASE WHEN dead_letters.id = @ReplayOf AND dead_letters.original_copies <= 1 THEN NULL ELSE dead_letters.original_sent_at END,
                    idempotency_key = COALESCE(dead_letters.idempotency_key, excluded.idempotency_key),
                    replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = excluded.updated_at
            RETURNING id AS Id, failure_count AS FailureCount, status AS Status;
            """,

        AuditInsert = """
            INSERT INTO dead_letter_audit (dead_letter_id, at, actor, action, outcome, detail)
            VALUES (@DeadLetterId, @At, @Actor, @Action, @Outcome, @Detail);
            """,

        Select = """
            SELECT id AS Id, source_queue AS SourceQueue, message_type AS MessageType, message_id AS MessageId,
                   erp_key AS ErpKey, exception_type AS ExceptionType, exception_message AS ExceptionMessage,
                   failure_group AS FailureGroup, attempt_count AS AttemptCount, failure_count AS FailureCount,
                   first_failed_at AS FirstFailedAt, last_failed_at AS LastFailedAt, status AS Status,
                   status_reason AS StatusReason, replay_count AS ReplayCount,
                   correlation_id AS CorrelationId, content_type AS ContentType, body AS Body, body_encoding AS BodyEncoding,
                   headers AS Headers, stack_trace AS StackTrace, normalized_message AS NormalizedMessage,
                   replay_claimed_by AS ReplayClaimedBy, replay_claim_expires_at AS ReplayClaimExpiresAt, updated_at AS UpdatedAt,
                   edit_message_id AS EditMessageId, original_sent_at AS OriginalSentAt
            FROM dead_letters
            WHERE id = @Id;
            """,

        AuditSelect = """
            SELECT id AS Id, at AS At, actor AS Actor, action AS Action, outcome AS Outcome, detail AS Detail
            FROM dead_letter_audit
            WHERE dead_letter_id = @Id
            ORDER BY id;
            """,

        Query = $$"""
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

        QueryCount = $$"""
            SELECT COUNT(*)
            FROM dead_letters
            {{PortableDeadLetterFilter}};
            """,

        Groups = $$"""
            SELECT failure_group AS FailureGroup, exception_type AS ExceptionType, normalized_message AS NormalizedMessage,
                   COUNT(*) AS Count, MIN(first_failed_at) AS FirstSeen, MAX(last_failed_at) AS LastSeen
            FROM dead_letters
            {{PortableDeadLetterFilter}}
            GROUP BY failure_group, exception_type, normalized_message
            ORDER BY COUNT(*) DESC, MAX(last_failed_at) DESC
            LIMIT 500;
            """,

        // The lease runs on the database's clock, never on an instance's own.
        ClaimReplay = $$"""
            UPDATE dead_letters
            SET status = 'Replaying', replay_claimed_by = @Owner, replay_claim_expires_at = {{SqliteClock.NowPlus("@LeaseMilliseconds")}},
                original_sent_at = {{SqliteClock.Now}}, original_copies = original_copies + 1,
                updated_at = @Now
            WHERE id = @Id AND status = 'Pending' AND edit_message_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM dead_letters o
                              WHERE o.idempotency_key = dead_letters.idempotency_key AND o.message_type = dead_letters.message_type
                                AND o.edit_message_id IS NOT NULL);
            """,

        ClaimEdit = $$"""
            UPDATE dead_letters
            SET status = 'Replaying', replay_claimed_by = @Owner, replay_claim_expires_at = {{SqliteClock.NowPlus("@LeaseMilliseconds")}},
                edit_message_id = @EditMessageId,
                updated_at = @Now
            WHERE id = @Id AND status = 'Pending' AND original_sent_at IS NULL
              AND (edit_message_id IS NULL OR edit_message_id = @EditMessageId)
              AND NOT EXISTS (SELECT 1 FROM dead_letters o
                              WHERE o.idempotency_key = dead_letters.idempotency_key AND o.message_type = dead_letters.message_type AND o.id <> dead_letters.id
                                AND (o.original_copies > 0 OR o.edit_message_id IS NOT NULL))
              AND NOT EXISTS (SELECT 1 FROM idempotency_records r
                              WHERE r.idempotency_key = dead_letters.idempotency_key AND r.message_type = dead_letters.message_type AND r.state = 'Completed')
              AND NOT EXISTS (SELECT 1 FROM effect_journal j
                              WHERE j.owner_key = dead_letters.idempotency_key AND j.state <> 'NotApplied')
              AND NOT EXISTS (SELECT 1 FROM idempotency_records s
                              WHERE s.idempotency_key = dead_letters.idempotency_key AND (s.unjournaled_send_at IS NOT NULL OR s.pending_async_task_id IS NOT NULL));
            """,

        SelectExpiredReplays = $$"""
            SELECT id AS Id, source_queue AS SourceQueue, replay_claimed_by AS Owner, replay_claim_expires_at AS ExpiresAt,
                   edit_message_id AS EditMessageId
            FROM dead_letters
            WHERE status = 'Replaying' AND replay_claim_expires_at < {{SqliteClock.Now}} AND (@Id IS NULL OR id = @Id)
            ORDER BY replay_claim_expires_at
            LIMIT 500;
            """,

        ReleaseExpiredReplay = $$"""
            UPDATE dead_letters
            SET status = 'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner AND replay_claim_expires_at < {{SqliteClock.Now}};
            """,

        CompleteReplay = """
            UPDATE dead_letters
            SET status = 'Replayed', status_reason = NULL, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        // @Unsent = 1: a replay's send that certainly never reached the broker takes back the copy its claim counted.
        ReleaseReplay = """
            UPDATE dead_letters
            SET status = 'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now,
                original_copies = CASE WHEN @Unsent = 1 AND original_copies > 0 THEN original_copies - 1 ELSE original_copies END,
                original_sent_at = CASE WHEN @Unsent = 1 AND original_copies <= 1 THEN NULL ELSE original_sent_at END
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        InsertReplayCopy = """
            INSERT INTO dead_letter_replay_copies (dead_letter_id, copy_id, claimed_at) VALUES (@Id, @CopyId, @Now);
            """,

        DeleteReplayCopy = """
            DELETE FROM dead_letter_replay_copies WHERE dead_letter_id = @ReplayOf AND copy_id = @CopyId;
            """,

        CompleteEdit = """
            UPDATE dead_letters
            SET status = 'Discarded', status_reason = @Reason, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Replaying' AND replay_claimed_by = @Owner;
            """,

        Discard = """
            UPDATE dead_letters
            SET status = 'Discarded', status_reason = @Reason, updated_at = @Now
            WHERE id = @Id AND status IN ('Pending', 'Replayed');
            """,

        Restore = """
            UPDATE dead_letters
            SET status = 'Pending', status_reason = NULL, updated_at = @Now
            WHERE id = @Id AND status = 'Discarded'
              AND NOT EXISTS (SELECT 1 FROM dead_letter_audit a
                              WHERE a.dead_letter_id = @Id AND a.action = 'EditAndReplay' AND a.outcome IN ('Discarded', 'Sent'));
            """,

        Purge = $$"""
            DELETE FROM dead_letters
            WHERE rowid IN
            (
                SELECT rowid FROM dead_letters
                WHERE last_failed_at < @OlderThan AND (status <> 'Replaying' OR replay_claim_expires_at < {{SqliteClock.Now}})
                  AND (original_sent_at IS NULL OR original_sent_at < @OlderThan)
                  AND (edit_message_id IS NULL
                       OR EXISTS (SELECT 1 FROM dead_letter_audit a
                                  WHERE a.dead_letter_id = dead_letters.id AND a.action = 'EditAndReplay' AND a.outcome IN ('Discarded', 'Sent')))
                  AND (idempotency_key IS NULL OR (edit_message_id IS NULL AND status <> 'Discarded')
                       OR EXISTS (SELECT 1 FROM idempotency_records r WHERE r.idempotency_key = dead_letters.idempotency_key AND r.message_type = dead_letters.message_type AND r.state = 'Completed'))
                LIMIT @BatchSize
            );
            """,

        CountByStatus = """
            SELECT status AS Status, COUNT(*) AS Count FROM dead_letters GROUP BY status;
            """,

        SelectKeyless = """
            SELECT id FROM dead_letters WHERE idempotency_key IS NULL AND id > @After ORDER BY id LIMIT 100;
            """,

        SetIdempotencyKey = """
            UPDATE dead_letters SET idempotency_key = @IdempotencyKey WHERE id = @Id AND idempotency_key IS NULL;
            """,

        LockKeyLetters = """
            SELECT id FROM dead_letters WHERE id = @Id;
            """,

        HoldKeyForEdit = """
            UPDATE idempotency_records
            SET edit_letter_id = COALESCE(edit_letter_id, @Id)
            WHERE idempotency_key = (SELECT idempotency_key FROM dead_letters WHERE id = @Id);
            """,

        UncountReplayCopy = """
            UPDATE dead_letters
            SET original_copies = original_copies - 1,
                original_sent_at = CASE WHEN original_copies <= 1 THEN NULL ELSE original_sent_at END
            WHERE id = @ReplayOf AND original_copies > 0;
            """,

        KeyHolders = """
            SELECT d.idempotency_key AS IdempotencyKey,
                   (SELECT COUNT(*) FROM idempotency_records r
                    WHERE r.idempotency_key = d.idempotency_key AND r.message_type = d.message_type AND r.state = 'Completed') AS Answered,
                   o.id AS OtherId, o.status AS OtherStatus, o.original_copies AS OtherCopies,
                   CASE WHEN o.edit_message_id IS NULL THEN 0 ELSE 1 END AS OtherEdited,
                   (SELECT j.state || ':' || j.effect_id FROM effect_journal j
                    WHERE j.owner_key = d.idempotency_key AND j.state <> 'NotApplied'
                    ORDER BY CASE j.state WHEN 'Unknown' THEN 0 WHEN 'Applied' THEN 2 ELSE 1 END, j.sent_at, j.effect_id LIMIT 1) AS Effect,
                   (SELECT COUNT(*) FROM idempotency_records s
                    WHERE s.idempotency_key = d.idempotency_key AND (s.unjournaled_send_at IS NOT NULL OR s.pending_async_task_id IS NOT NULL)) AS Sent
            FROM dead_letters d
            LEFT JOIN dead_letters o
                ON o.idempotency_key = d.idempotency_key AND o.message_type = d.message_type AND o.id <> d.id
               AND (o.original_copies > 0 OR o.edit_message_id IS NOT NULL)
            WHERE d.id = @Id
            ORDER BY OtherEdited DESC LIMIT 20;
            """,
    };

    private static readonly DeadLetterSql SqlServer = new()
    {
        // HOLDLOCK makes MERGE's match-then-insert atomic, so two captures of one message cannot both insert.
        Upsert = """
            MERGE bridge.dead_letters WITH (HOLDLOCK) AS target
            USING (VALUES (@SourceQueue, @IdentityHash)) AS source (source_queue, identity_hash)
                ON target.source_queue = source.source_queue AND target.identity_hash = source.identity_hash
            WHEN MATCHED THEN
                UPDATE SET exception_type = @ExceptionType, exception_message = @ExceptionMessage,
                    stack_trace = @StackTrace, failure_group = @FailureGroup, normalized_message = @NormalizedMessage,
                    attempt_count = target.attempt_count + @AttemptCount, failure_count = target.failure_count + 1,
                    last_failed_at = @FailedAt,
                    status = CASE WHEN target.status = N'Discarded' THEN target.status ELSE N'Pending' END,
                    status_reason = CASE WHEN target.status = N'Discarded' THEN target.status_reason ELSE NULL END,
                    original_copies = CASE WHEN target.id = @ReplayOf AND target.original_copies > 0 THEN target.original_copies - 1 ELSE target.original_copies END,
                    original_sent_at = CASE WHEN target.id = @ReplayOf AND target.original_copies <= 1 THEN NULL ELSE target.original_sent_at END,
                    idempotency_key = COALESCE(target.idempotency_key, @IdempotencyKey),
                    replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @FailedAt
            WHEN NOT MATCHED THEN
                INSERT (id, source_queue, message_type, message_id, identity_hash, erp_key, correlation_id, content_type, body, body_encoding,
                 headers, exception_type, exception_message, stack_trace, failure_group, normalized_message,
                 attempt_count, failure_count, first_failed_at, last_failed_at, status, replay_count, updated_at, idempotency_key)
                VALUES (@Id, @SourceQueue, @MessageType, @MessageId, @IdentityHash, @ErpKey, @CorrelationId, @ContentType, @Body, @BodyEncoding,
                    @Headers, @ExceptionType, @ExceptionMessage, @StackTrace, @FailureGroup, @NormalizedMessage,
                    @AttemptCount, 1, @FailedAt, @FailedAt, N'Pending', 0, @FailedAt, @IdempotencyKey)
            OUTPUT inserted.id AS Id, inserted.failure_count AS FailureCount, inserted.status AS Status;
            """,

        AuditInsert = """
            INSERT INTO bridge.dead_letter_audit (dead_letter_id, at, actor, action, outcome, detail)
            VALUES (@DeadLetterId, @At, @Actor, @Action, @Outcome, @Detail);
            """,

        Select = """
            SELECT id AS Id, source_queue AS SourceQueue, message_type AS MessageType, message_id AS MessageId,
                   erp_key AS ErpKey, exception_type AS ExceptionType, exception_message AS ExceptionMessage,
                   failure_group AS FailureGroup, attempt_count AS AttemptCount, failure_count AS FailureCount,
                   first_failed_at AS FirstFailedAt, last_failed_at AS LastFailedAt, status AS Status,
                   status_reason AS StatusReason, replay_count AS ReplayCount,
                   correlation_id AS CorrelationId, content_type AS ContentType, body AS Body, body_encoding AS BodyEncoding,
                   headers AS Headers, stack_trace AS StackTrace, normalized_message AS NormalizedMessage,
                   replay_claimed_by AS ReplayClaimedBy, replay_claim_expires_at AS ReplayClaimExpiresAt, updated_at AS UpdatedAt,
                   edit_message_id AS EditMessageId, original_sent_at AS OriginalSentAt
            FROM bridge.dead_letters
            WHERE id = @Id;
            """,

        AuditSelect = """
            SELECT id AS Id, at AS At, actor AS Actor, action AS Action, outcome AS Outcome, detail AS Detail
            FROM bridge.dead_letter_audit
            WHERE dead_letter_id = @Id
            ORDER BY id;
            """,

        Query = $$"""
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

        QueryCount = $$"""
            SELECT COUNT_BIG(*)
            FROM bridge.dead_letters
            {{PortableDeadLetterFilter}};
            """,

        Groups = $$"""
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
        // The markers are the row's own columns: under read committed snapshot a subquery on another table would be read as
        // of the statement's start, not re-read after the wait for the row.
        ClaimReplay = """
            UPDATE d
            SET status = N'Replaying', replay_claimed_by = @Owner,
                replay_claim_expires_at = DATEADD(millisecond, @LeaseMilliseconds % 1000, DATEADD(second, @LeaseMilliseconds / 1000, SYSUTCDATETIME())),
                original_sent_at = SYSUTCDATETIME(), original_copies = d.original_copies + 1,
                updated_at = @Now
            FROM bridge.dead_letters AS d
            WHERE d.id = @Id AND d.status = N'Pending' AND d.edit_message_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM bridge.dead_letters o
                              WHERE o.idempotency_key = d.idempotency_key AND o.message_type = d.message_type
                                AND o.edit_message_id IS NOT NULL);
            """,

        ClaimEdit = """
            UPDATE d
            SET status = N'Replaying', replay_claimed_by = @Owner,
                replay_claim_expires_at = DATEADD(millisecond, @LeaseMilliseconds % 1000, DATEADD(second, @LeaseMilliseconds / 1000, SYSUTCDATETIME())),
                edit_message_id = @EditMessageId,
                updated_at = @Now
            FROM bridge.dead_letters AS d
            WHERE d.id = @Id AND d.status = N'Pending' AND d.original_sent_at IS NULL
              AND (d.edit_message_id IS NULL OR d.edit_message_id = @EditMessageId)
              AND NOT EXISTS (SELECT 1 FROM bridge.dead_letters o
                              WHERE o.idempotency_key = d.idempotency_key AND o.message_type = d.message_type AND o.id <> d.id
                                AND (o.original_copies > 0 OR o.edit_message_id IS NOT NULL))
              AND NOT EXISTS (SELECT 1 FROM bridge.idempotency_records r
                              WHERE r.idempotency_key = d.idempotency_key AND r.message_type = d.message_type AND r.state = N'Completed')
              AND NOT EXISTS (SELECT 1 FROM bridge.effect_journal j
                              WHERE j.owner_key = d.idempotency_key AND j.state <> N'NotApplied')
              AND NOT EXISTS (SELECT 1 FROM bridge.idempotency_records s
                              WHERE s.idempotency_key = d.idempotency_key AND (s.unjournaled_send_at IS NOT NULL OR s.pending_async_task_id IS NOT NULL));
            """,

        SelectExpiredReplays = """
            SELECT TOP (500) id AS Id, source_queue AS SourceQueue, replay_claimed_by AS Owner, replay_claim_expires_at AS ExpiresAt,
                   edit_message_id AS EditMessageId
            FROM bridge.dead_letters
            WHERE status = N'Replaying' AND replay_claim_expires_at < SYSUTCDATETIME() AND (@Id IS NULL OR id = @Id)
            ORDER BY replay_claim_expires_at;
            """,

        ReleaseExpiredReplay = """
            UPDATE bridge.dead_letters
            SET status = N'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = N'Replaying' AND replay_claimed_by = @Owner AND replay_claim_expires_at < SYSUTCDATETIME();
            """,

        CompleteReplay = """
            UPDATE bridge.dead_letters
            SET status = N'Replayed', status_reason = NULL, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = N'Replaying' AND replay_claimed_by = @Owner;
            """,

        // @Unsent = 1: a replay's send that certainly never reached the broker takes back the copy its claim counted.
        ReleaseReplay = """
            UPDATE bridge.dead_letters
            SET status = N'Pending', replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now,
                original_copies = CASE WHEN @Unsent = 1 AND original_copies > 0 THEN original_copies - 1 ELSE original_copies END,
                original_sent_at = CASE WHEN @Unsent = 1 AND original_copies <= 1 THEN NULL ELSE original_sent_at END
            WHERE id = @Id AND status = N'Replaying' AND replay_claimed_by = @Owner;
            """,

        InsertReplayCopy = """
            INSERT INTO bridge.dead_letter_replay_copies (dead_letter_id, copy_id, claimed_at) VALUES (@Id, @CopyId, @Now);
            """,

        DeleteReplayCopy = """
            DELETE FROM bridge.dead_letter_replay_copies WHERE dead_letter_id = @ReplayOf AND copy_id = @CopyId;
            """,

        CompleteEdit = """
            UPDATE bridge.dead_letters
            SET status = N'Discarded', status_reason = @Reason, replay_count = replay_count + 1,
                replay_claimed_by = NULL, replay_claim_expires_at = NULL, updated_at = @Now
            WHERE id = @Id AND status = N'Replaying' AND replay_claimed_by = @Owner;
            """,

        Discard = """
            UPDATE bridge.dead_letters
            SET status = N'Discarded', status_reason = @Reason, updated_at = @Now
            WHERE id = @Id AND status IN (N'Pending', N'Replayed');
            """,

        Restore = """
            UPDATE bridge.dead_letters
            SET status = N'Pending', status_reason = NULL, updated_at = @Now
            WHERE id = @Id AND status = N'Discarded'
              AND NOT EXISTS (SELECT 1 FROM bridge.dead_letter_audit a
                              WHERE a.dead_letter_id = @Id AND a.action = N'EditAndReplay' AND a.outcome IN (N'Discarded', N'Sent'));
            """,

        Purge = """
            DELETE TOP (@BatchSize) FROM bridge.dead_letters
            WHERE last_failed_at < @OlderThan AND (status <> N'Replaying' OR replay_claim_expires_at < SYSUTCDATETIME())
              AND (original_sent_at IS NULL OR original_sent_at < @OlderThan)
              AND (edit_message_id IS NULL
                   OR EXISTS (SELECT 1 FROM bridge.dead_letter_audit a
                              WHERE a.dead_letter_id = bridge.dead_letters.id AND a.action = N'EditAndReplay' AND a.outcome IN (N'Discarded', N'Sent')))
              AND (idempotency_key IS NULL OR (edit_message_id IS NULL AND status <> N'Discarded')
                   OR EXISTS (SELECT 1 FROM bridge.idempotency_records r WHERE r.idempotency_key = bridge.dead_letters.idempotency_key AND r.message_type = bridge.dead_letters.message_type AND r.state = N'Completed'));
            """,

        CountByStatus = """
            SELECT status AS Status, COUNT_BIG(*) AS Count FROM bridge.dead_letters GROUP BY status;
            """,

        SelectKeyless = """
            SELECT TOP (100) id FROM bridge.dead_letters WHERE idempotency_key IS NULL AND id > @After ORDER BY id;
            """,

        SetIdempotencyKey = """
            UPDATE bridge.dead_letters SET idempotency_key = @IdempotencyKey WHERE id = @Id AND idempotency_key IS NULL;
            """,

        LockKeyLetters = """
            SELECT o.id FROM bridge.dead_letters d
            JOIN bridge.dead_letters o WITH (UPDLOCK, HOLDLOCK) ON o.idempotency_key = d.idempotency_key AND o.message_type = d.message_type
            WHERE d.id = @Id
            ORDER BY o.id;
            """,

        HoldKeyForEdit = """
            UPDATE bridge.idempotency_records
            SET edit_letter_id = COALESCE(edit_letter_id, @Id)
            WHERE idempotency_key = (SELECT idempotency_key FROM bridge.dead_letters WHERE id = @Id);
            """,

        UncountReplayCopy = """
            UPDATE bridge.dead_letters
            SET original_copies = original_copies - 1,
                original_sent_at = CASE WHEN original_copies <= 1 THEN NULL ELSE original_sent_at END
            WHERE id = @ReplayOf AND original_copies > 0;
            """,

        KeyHolders = """
            SELECT TOP (20) d.idempotency_key AS IdempotencyKey,
                   (SELECT COUNT(*) FROM bridge.idempotency_records r
                    WHERE r.idempotency_key = d.idempotency_key AND r.message_type = d.message_type AND r.state = N'Completed') AS Answered,
                   o.id AS OtherId, o.status AS OtherStatus, o.original_copies AS OtherCopies,
                   CASE WHEN o.edit_message_id IS NULL THEN 0 ELSE 1 END AS OtherEdited,
                   (SELECT TOP (1) j.state + N':' + j.effect_id FROM bridge.effect_journal j
                    WHERE j.owner_key = d.idempotency_key AND j.state <> N'NotApplied'
                    ORDER BY CASE j.state WHEN N'Unknown' THEN 0 WHEN N'Applied' THEN 2 ELSE 1 END, j.sent_at, j.effect_id) AS Effect,
                   (SELECT COUNT(*) FROM bridge.idempotency_records s
                    WHERE s.idempotency_key = d.idempotency_key AND (s.unjournaled_send_at IS NOT NULL OR s.pending_async_task_id IS NOT NULL)) AS Sent
            FROM bridge.dead_letters d
            LEFT JOIN bridge.dead_letters o
                ON o.idempotency_key = d.idempotency_key AND o.message_type = d.message_type AND o.id <> d.id
               AND (o.original_copies > 0 OR o.edit_message_id IS NOT NULL)
            WHERE d.id = @Id
            ORDER BY OtherEdited DESC;
            """,
    };
}
