using System.Reflection;

namespace Bridge.Host.Storage;

/// <summary>
/// Every SQL statement one dialect runs, kept together so each can be reviewed (and, for SQL Server, parsed by a test)
/// beside its siblings in the other dialects. Parameters are Dapper names (<c>@Name</c>); every dialect uses the same ones.
/// Every lease (document claims, outbox claims and retry times) is set and judged by the database's clock inside the
/// statement — only its length is a parameter (<c>@...Milliseconds</c>) — so instances whose clocks disagree cannot
/// take each other's live claims. Every purge deletes at most <c>@BatchSize</c> rows and is repeated by
/// <see cref="SqlPurge"/> until a batch comes back short.
/// </summary>
public sealed partial class SqlStatements
{
    /// <summary>Creates the <c>bridge</c> schema if missing; null where the dialect has no schemas (SQLite).</summary>
    /// <remarks>A command of its own: SQL Server resolves a batch's schema names before running any of it.</remarks>
    public required string? EnsureMigrationSchema { get; init; }

    /// <summary>Creates <c>schema_versions</c> if it is missing.</summary>
    public required string EnsureMigrationTable { get; init; }

    /// <summary>Serializes migration runners until the transaction ends; null where the transaction itself does (SQLite).</summary>
    public required string? AcquireMigrationLock { get; init; }

    public required string SelectAppliedMigrations { get; init; }

    public required string InsertMigration { get; init; }

    /// <summary>Inserts an InProgress record unless the key exists; affects one row only for the caller that inserted.</summary>
    public required string IdempotencyInsert { get; init; }

    public required string IdempotencySelect { get; init; }

    public required string IdempotencySetPendingAsyncTask { get; init; }

    /// <summary>
    /// In-progress records of <c>@MessageType</c> for <c>@DocumentKey</c> that still carry a pending-write marker (written only
    /// by Bridge versions from before the effect journal), oldest first.
    /// </summary>
    public required string IdempotencySelectMarkedForDocument { get; init; }

    /// <summary>Completes the record only while it is in progress: of two deliveries committing, one completes it.</summary>
    public required string IdempotencyComplete { get; init; }

    public required string IdempotencyState { get; init; }

    /// <summary>Deletes up to <c>@BatchSize</c> completed records last updated before <c>@OlderThan</c>.</summary>
    public required string IdempotencyPurge { get; init; }

    /// <summary>
    /// Claims (inserting the row if absent) for <c>@LeaseMilliseconds</c> from the database's now unless another owner
    /// holds a claim that has not expired by the database's clock; on success returns the claimed row as
    /// <see cref="DocumentSelect"/> reads it (one round trip for both), else nothing.
    /// </summary>
    public required string DocumentClaim { get; init; }

    /// <summary>
    /// Extends the claim for <c>@LeaseMilliseconds</c> from the database's now only while <c>@Owner</c> still holds it —
    /// unlike <see cref="DocumentClaim"/>, never re-takes a claim another delivery held (and perhaps released) meanwhile;
    /// affects one row on success. Run inside a transaction it also locks the row until the transaction ends, so no other
    /// delivery can take the claim before what the transaction records is committed.
    /// </summary>
    public required string DocumentRenew { get; init; }

    public required string DocumentRelease { get; init; }

    public required string DocumentSelect { get; init; }

    public required string DocumentSetApplied { get; init; }

    public required string OutboxInsert { get; init; }

    /// <summary>
    /// Leases up to <c>@BatchSize</c> due rows (not parked, retry time reached, lease expired) for <c>@LeaseMilliseconds</c>,
    /// fewest attempts first then oldest first, skipping rows other transactions hold, and returns them.
    /// </summary>
    public required string OutboxClaim { get; init; }

    public required string OutboxMarkDispatched { get; init; }

    /// <summary>Counts a failed attempt and makes the row due again <c>@RetryAfterMilliseconds</c> from the database's now.</summary>
    public required string OutboxMarkFailed { get; init; }

    /// <summary>Counts a failed attempt and parks the row: kept, never claimed again until requeued.</summary>
    public required string OutboxPark { get; init; }

    public required string OutboxCountPending { get; init; }

    public required string OutboxCountParked { get; init; }

    /// <summary>One row: undispatched messages pending (<c>Pending</c>) and parked (<c>Parked</c>), and the creation time of the oldest pending one (<c>OldestPendingAt</c>, null when none).</summary>
    public required string OutboxBacklog { get; init; }

    /// <summary>Deletes up to <c>@BatchSize</c> rows dispatched before <c>@OlderThan</c>.</summary>
    public required string OutboxPurgeDispatched { get; init; }

    /// <summary>
    /// Stores a dead letter, or — when the queue already holds one for the same message (same <c>identity_hash</c>: message
    /// id and body; a redelivery after a crash, a replay that failed again) — counts the new failure on it and makes it
    /// Pending again. Returns its id and failure count.
    /// </summary>
    public required string DeadLetterUpsert { get; init; }

    public required string DeadLetterAuditInsert { get; init; }

    public required string DeadLetterSelect { get; init; }

    public required string DeadLetterAuditSelect { get; init; }

    /// <summary>One page of summaries matching the optional filters (a null parameter matches everything), newest failure first.</summary>
    public required string DeadLetterQuery { get; init; }

    public required string DeadLetterQueryCount { get; init; }

    /// <summary>Counts by failure cause (exception type + normalised message) over the rows matching the filters.</summary>
    /// <summary>The 500 largest failure groups: messages that normalisation cannot collapse must not return every dead letter.</summary>
    public required string DeadLetterGroups { get; init; }

    /// <summary>
    /// Pending to Replaying for one owner, leased for <c>@LeaseMilliseconds</c> from the database's now; affects one row only
    /// for the winner.
    /// </summary>
    public required string DeadLetterClaimReplay { get; init; }

    /// <summary>Up to 500 Replaying dead letters (one, when <c>@Id</c> is set) whose claim expired by the database's clock: a replay that died unrecorded.</summary>
    public required string DeadLetterSelectExpiredReplays { get; init; }

    /// <summary>Replaying to Pending, if <c>@Owner</c>'s claim is still the one there and expired by the database's clock.</summary>
    public required string DeadLetterReleaseExpiredReplay { get; init; }

    public required string DeadLetterCompleteReplay { get; init; }

    public required string DeadLetterReleaseReplay { get; init; }

    /// <summary>Archives (Discarded) the original of an edited message, while its claimer still holds it.</summary>
    public required string DeadLetterCompleteEdit { get; init; }

    public required string DeadLetterDiscard { get; init; }

    public required string DeadLetterRestore { get; init; }

    /// <summary>
    /// Deletes up to <c>@BatchSize</c> dead letters last failed before <c>@OlderThan</c>, with their audit, except ones a live
    /// replay holds (a Replaying one whose claim expired by the database's clock is deleted like any other).
    /// </summary>
    public required string DeadLetterPurge { get; init; }

    public required string DeadLetterCountByStatus { get; init; }

    /// <summary>Every statement by property name, for tests that parse or run them all.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> All =>
        typeof(SqlStatements)
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.PropertyType == typeof(string))
            .Select(property => new KeyValuePair<string, string>(property.Name, (string?)property.GetValue(this) ?? string.Empty))
            .Where(statement => statement.Value.Length > 0)
            .ToList();

    public static SqlStatements For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.SqlServer => SqlServer,
        SqlDialect.PostgreSql => PostgreSql,
        SqlDialect.Sqlite => Sqlite,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect."),
    };
}
