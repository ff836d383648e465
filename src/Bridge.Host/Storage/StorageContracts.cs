using System.Data.Common;

namespace Bridge.Host.Storage;

/// <summary>
/// The databases Bridge runs on. Each concern keeps its statements in one class (<see cref="OutboxSql"/>, for one) with
/// the three dialects side by side, so each can be reviewed (and, for SQL Server, parsed by a test) beside its siblings
/// in the other dialects. Parameters are Dapper names (<c>@Name</c>); every dialect uses the same ones.
/// Every lease (document claims, outbox claims and retry times) is set and judged by the database's clock inside the
/// statement — only its length is a parameter (<c>@...Milliseconds</c>) — so instances whose clocks disagree cannot
/// take each other's live claims. Every purge deletes at most <c>@BatchSize</c> rows and is repeated by
/// <see cref="SqlPurge"/> until a batch comes back short.
/// </summary>
public enum SqlDialect
{
    SqlServer,
    PostgreSql,

    /// <remarks>
    /// SQLite has one writer at a time, so a single statement is atomic against every other connection: the
    /// claim statements need no lock hints, only the busy timeout <see cref="BridgeDatabase"/> sets.
    /// </remarks>
    Sqlite,
}

/// <summary>Which database Bridge keeps its idempotency records, document states and outbox in.</summary>
public sealed class StorageOptions
{
    public const string Section = "Bridge:Storage";

    public SqlDialect Provider { get; set; } = SqlDialect.Sqlite;

    public string ConnectionString { get; set; } = "Data Source=bridge.db";

    /// <summary>
    /// Rows one purge statement deletes at most; a purge repeats it until a batch comes back short. Kept well under
    /// SQL Server's lock-escalation threshold (5 000 locks), so a purge never takes a table lock that stalls consumers.
    /// </summary>
    public int PurgeBatchSize { get; set; } = DefaultPurgeBatchSize;

    public const int DefaultPurgeBatchSize = 1000;

    public const int MaxPurgeBatchSize = 4000;

    /// <summary>
    /// How long start-up keeps trying to reach an unreachable database (a server still starting, a failover) before it
    /// gives up with a clear error; nothing is consumed meanwhile and <c>/health/ready</c> stays unready.
    /// </summary>
    public TimeSpan StartupWait { get; set; } = DefaultStartupWait;

    public static readonly TimeSpan DefaultStartupWait = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Whether the service applies pending migrations when it starts (the default). Off, it only checks that none is
    /// pending and refuses to start otherwise: migrations then run as their own step, <c>bridge migrate</c>, with a login
    /// allowed to change the schema, while the service's login needs no DDL rights.
    /// </summary>
    public bool MigrateOnStart { get; set; } = true;
}

/// <summary>Opens connections to Bridge's database and runs its versioned migrations.</summary>
public interface IBridgeDatabase
{
    SqlDialect Dialect { get; }

    /// <summary>Rows one purge statement deletes at most (<see cref="StorageOptions.PurgeBatchSize"/>).</summary>
    int PurgeBatchSize { get; }

    Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// A connection whose commits do not wait for the disk (PostgreSQL: <c>synchronous_commit</c> off; SQLite:
    /// <c>synchronous = NORMAL</c>; SQL Server: as <see cref="OpenAsync"/>). Only for rows whose loss in a crash of the
    /// database is harmless because nothing acts on them before a durable commit made them durable too — the log is one
    /// sequence, so a durable commit flushes every commit before it: an idempotency record's begin (the document's claim,
    /// durable, comes right after it, and nothing is decided before) and a claim's release outside the completing
    /// transaction (a lost one runs out with its lease). Never for a claim or its renewal (flows act on a claim without
    /// writing anything first), a journal entry, a completion or an outbox row.
    /// </summary>
    Task<DbConnection> OpenForLeasesAsync(CancellationToken cancellationToken) => OpenAsync(cancellationToken);

    /// <summary>Applies every migration of this dialect not yet applied; safe to call from several instances.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);
}

public enum IdempotencyState
{
    /// <summary>Claimed by a consumer; the effect may or may not have happened yet.</summary>
    InProgress,

    /// <summary>The effect happened (or was refused for good) and the result event is in the outbox.</summary>
    Completed,
}

public sealed record IdempotencyRecord(
    string IdempotencyKey,
    string MessageType,
    string Fingerprint,
    string? DocumentKey,
    IdempotencyState State,
    string? Outcome,
    string? ResourceId,
    string? PendingAsyncTaskId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>What <see cref="IIdempotencyStore.BeginAsync"/> found.</summary>
/// <param name="Record">The record as it is now (the new one when <paramref name="IsNew"/>).</param>
/// <param name="IsNew">True when this call inserted the record.</param>
public sealed record IdempotencyBegin(IdempotencyRecord Record, bool IsNew);

/// <summary>
/// What <see cref="IIdempotencyStore.BeginAndClaimAsync"/> found: whether this caller inserted the record, the record as read
/// after the claim was taken, and the document as claimed (null: another owner holds it).
/// </summary>
public sealed record BeginAndClaim(bool IsNew, IdempotencyRecord Record, DocumentState? Document)
{
    /// <summary>The dead letters holding the key for the message type (read in the same round trip; storage version 16).</summary>
    public IReadOnlyList<HoldingLetter> HoldingLetters { get; init; } = [];
}

/// <summary>A dead letter holding an idempotency key: whether it counts the delivery as a copy its replay sent, and whether an edit of it was begun.</summary>
public sealed record HoldingLetter(Guid Id, bool CountsCopy, bool Edited);

public interface IIdempotencyStore
{
    /// <summary>
    /// Inserts an <see cref="IdempotencyState.InProgress"/> record for the key, or returns the one already there.
    /// Concurrent callers with the same key: exactly one gets <c>IsNew = true</c>.
    /// </summary>
    Task<IdempotencyBegin> BeginAsync(string idempotencyKey, string messageType, string fingerprint, string? documentKey, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="BeginAsync"/> with <paramref name="documentKey"/>, then <see cref="IDocumentStateStore.ClaimAsync(string, string, string, TimeSpan, CancellationToken)"/> of the
    /// document for <paramref name="owner"/>, then the record read again — three statements in one round trip, each
    /// reading what was committed before it began, so a completion another delivery committed before the claim was taken
    /// is seen. The claim is taken whatever the record says: a caller that will not work (a duplicate, a conflict) releases
    /// it. The begun record is durable with the claim. In the same round trip, the dead letters holding the key, each with
    /// whether it counts <paramref name="replayCopy"/> (the delivery's <c>Bridge-Replay-Copy</c>, when it has one).
    /// </summary>
    Task<BeginAndClaim> BeginAndClaimAsync(
        string idempotencyKey, string messageType, string fingerprint, string scope, string documentKey, string owner, TimeSpan lease, string? replayCopy, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the in-progress record a held delivery began (<see cref="BeginAndClaim.IsNew"/>) with
    /// <paramref name="fingerprint"/>, so that it does not decide the key for what an operator later sends.
    /// </summary>
    Task DeleteBegunAsync(string idempotencyKey, string fingerprint, CancellationToken cancellationToken);

    Task<IdempotencyRecord?> FindAsync(string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Records (or clears, with null) the ActivePlatform async task being polled, before the first poll.</summary>
    Task SetPendingAsyncTaskAsync(string idempotencyKey, string? asyncTaskId, CancellationToken cancellationToken);

    /// <summary>
    /// Right before a call that journals nothing first: stamps the record as having sent one (storage version 17), unless an
    /// edit of a dead letter holds the key — false then (and when there is no record), and nothing may be sent.
    /// </summary>
    Task<bool> TryMarkUnjournaledSendAsync(string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>The dead letter whose edit holds <paramref name="idempotencyKey"/> (storage version 17); null when none does.</summary>
    Task<EditHold?> FindEditHoldAsync(string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>
    /// In-progress records of <paramref name="messageType"/> for <paramref name="documentKey"/> still carrying a pending-write
    /// marker, oldest first: only Bridge versions from before the effect journal wrote one (ADR 0005, adoption).
    /// </summary>
    Task<IReadOnlyList<IdempotencyRecord>> FindMarkedForDocumentAsync(string messageType, string documentKey, CancellationToken cancellationToken);

    /// <summary>
    /// Marks an in-progress record completed, inside the caller's transaction (the one that also writes the outbox).
    /// Returns false when the record was already completed (another delivery got there first); throws for an unknown key.
    /// </summary>
    Task<bool> CompleteAsync(DbTransaction transaction, string idempotencyKey, string outcome, string? resourceId, CancellationToken cancellationToken);

    /// <summary>Deletes completed records last updated before <paramref name="olderThan"/>, in batches; returns how many.</summary>
    Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken);
}

/// <summary>Bridge's knowledge of one ERP document: the version last applied, its ActivePlatform id, and who works on it now.</summary>
/// <param name="Scope">Namespace of the key, e.g. <c>closing-document:{resellerId}:{accountId}</c>.</param>
/// <param name="AppliedVersion">Ordering token of the last applied version (compared by the caller), null when none.</param>
public sealed record DocumentState(
    string Scope,
    string DocumentKey,
    string? AppliedVersion,
    string? ResourceId,
    bool Deleted,
    DateTimeOffset UpdatedAt);

/// <summary>
/// Per-document claims that hold across Bridge instances, so two versions of one document are never in flight at once,
/// and the version last applied, so an older version is never written over a newer one.
/// </summary>
public interface IDocumentStateStore
{
    /// <summary>
    /// Claims the document for <paramref name="owner"/> for <paramref name="lease"/>. Succeeds when no one holds it,
    /// the previous claim expired, or <paramref name="owner"/> already holds it (then the lease is extended).
    /// Expiry is judged by the database's clock, never the caller's, so an instance whose clock runs ahead cannot take
    /// a live claim. Returns the document as it is once claimed — what <see cref="GetAsync"/> would read, in the same round
    /// trip; a document never seen before is a new row with nothing applied — or null when another owner holds it.
    /// </summary>
    Task<DocumentState?> ClaimAsync(string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="ClaimAsync(string, string, string, TimeSpan, CancellationToken)"/>, inside <paramref name="transaction"/>:
    /// the claim is taken only if the transaction commits, and no one else can take it before it ends.
    /// </summary>
    Task<DocumentState?> ClaimAsync(DbTransaction transaction, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Extends the claim only while <paramref name="owner"/> still holds it (by the database's clock): false once another
    /// delivery took it — even if that delivery has released it since. Inside <paramref name="transaction"/> (when given)
    /// the claim cannot be taken by another delivery until the transaction ends: what it records is fenced by the claim.
    /// </summary>
    Task<bool> TryRenewAsync(DbTransaction? transaction, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Releases the claim if <paramref name="owner"/> holds it; inside <paramref name="transaction"/> (when given), the one
    /// that records the work's end.
    /// </summary>
    Task ReleaseAsync(DbTransaction? transaction, string scope, string documentKey, string owner, CancellationToken cancellationToken);

    /// <summary>Hands the claim <paramref name="owner"/> holds to <paramref name="to"/>, its expiry unchanged; false when <paramref name="owner"/> does not hold it.</summary>
    Task<bool> TryHandOverAsync(string scope, string documentKey, string owner, string to, CancellationToken cancellationToken);

    Task<DocumentState?> GetAsync(string scope, string documentKey, CancellationToken cancellationToken);

    /// <summary>
    /// Records a state at once, in a transaction of its own: an intent written before a call with an effect (so that a
    /// later attempt knows the call may have happened), never the final state, which goes with the outbox.
    /// </summary>
    Task SetAppliedNowAsync(string scope, string documentKey, string? appliedVersion, string? resourceId, CancellationToken cancellationToken);

    /// <summary>Records at once, in a transaction of its own, that the document was deleted after <paramref name="appliedVersion"/>.</summary>
    Task SetDeletedNowAsync(string scope, string documentKey, string? appliedVersion, CancellationToken cancellationToken);

    /// <summary>Records the applied version and ActivePlatform id inside the caller's transaction.</summary>
    Task SetAppliedAsync(DbTransaction transaction, string scope, string documentKey, string? appliedVersion, string? resourceId, bool deleted, CancellationToken cancellationToken);
}

/// <summary>A result event waiting in the outbox to be published.</summary>
/// <param name="MessageType">The event's CLR type name in <c>Bridge.Contracts</c>, e.g. <c>ClosingDocumentSent</c>.</param>
/// <param name="Body">The event serialized as JSON.</param>
/// <param name="Headers">JSON object of headers to publish with it (message id, correlation id, traceparent, ...).</param>
public sealed record OutboxMessage(
    Guid Id,
    string MessageType,
    string Body,
    string Headers,
    DateTimeOffset CreatedAt,
    int Attempts)
{
    /// <summary>The W3C <c>traceparent</c> of the handling that wrote the event; the dispatcher publishes the event in its trace.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The W3C <c>tracestate</c> that went with <see cref="TraceParent"/>.</summary>
    public string? TraceState { get; init; }

    /// <summary>The idempotency key of the message this event answers (a status lookup finds the event by it).</summary>
    public string? SourceMessageId { get; init; }
}

/// <summary>What waits in the outbox: pending and parked messages, and when the oldest pending one was written.</summary>
public sealed record OutboxBacklog(long Pending, long Parked, DateTimeOffset? OldestPendingAt);

public interface IOutboxStore
{
    /// <summary>Adds a message inside the caller's transaction.</summary>
    Task EnqueueAsync(DbTransaction transaction, OutboxMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Claims up to <paramref name="batchSize"/> messages that are due, for <paramref name="lease"/>: fewest failed
    /// attempts first, then oldest first, so a message that keeps failing never takes the place of one not yet tried.
    /// Skips parked messages, messages waiting out a retry delay, and rows another instance has locked or claimed (the
    /// engine's skip-locked form). Leases and retry times follow the database's clock, never the caller's.
    /// </summary>
    Task<IReadOnlyList<OutboxMessage>> ClaimAsync(string owner, int batchSize, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Records the messages as published, in one statement (the dispatcher marks a whole batch at once), even if
    /// <paramref name="owner"/>'s lease has lapsed meanwhile: they were published, and saying so spares second copies.
    /// </summary>
    Task MarkDispatchedAsync(IReadOnlyCollection<Guid> ids, string owner, CancellationToken cancellationToken);

    /// <summary>
    /// Counts a failed attempt, records the error, releases the claim and makes the message due again
    /// <paramref name="retryAfter"/> from now by the database's clock. False when <paramref name="owner"/> no longer held it.
    /// </summary>
    Task<bool> MarkFailedAsync(Guid id, string owner, string error, TimeSpan retryAfter, CancellationToken cancellationToken);

    /// <summary>
    /// Counts a failed attempt, records the error and parks the message: it stays in the outbox, is counted by
    /// <see cref="CountParkedAsync"/>, and is not claimed again until an operator requeues it. False when
    /// <paramref name="owner"/> no longer held it.
    /// </summary>
    Task<bool> ParkAsync(Guid id, string owner, string error, CancellationToken cancellationToken);

    /// <summary>Messages waiting to be published: neither dispatched nor parked (for health and metrics).</summary>
    Task<long> CountPendingAsync(CancellationToken cancellationToken);

    /// <summary>Messages parked after failing to publish too often (for health and metrics).</summary>
    Task<long> CountParkedAsync(CancellationToken cancellationToken);

    /// <summary>Pending and parked counts and the oldest pending message's creation time, in one query (for metrics).</summary>
    Task<OutboxBacklog> GetBacklogAsync(CancellationToken cancellationToken);

    /// <summary>Deletes dispatched messages older than <paramref name="olderThan"/>, in batches; returns how many.</summary>
    Task<int> PurgeDispatchedAsync(DateTimeOffset olderThan, CancellationToken cancellationToken);
}

public static class DocumentStateStoreExtensions
{
    /// <summary>Whether <see cref="IDocumentStateStore.ClaimAsync(string, string, string, TimeSpan, CancellationToken)"/> took the claim.</summary>
    public static async Task<bool> TryClaimAsync(this IDocumentStateStore store, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        return await store.ClaimAsync(scope, documentKey, owner, lease, cancellationToken).ConfigureAwait(false) is not null;
    }
}

/// <summary>An operator's edit of dead letter <paramref name="LetterId"/> holds the key of a record of <paramref name="MessageType"/>.</summary>
public sealed record EditHold(Guid LetterId, string MessageType);
