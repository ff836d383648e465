using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using Dapper;

namespace Bridge.Host.Effects;

/// <summary>What Bridge knows of one effect it sent (or is about to send) to ActivePlatform.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<EffectState>))]
public enum EffectState
{
    /// <summary>Recorded before the call: the call may or may not have reached ActivePlatform. Unresolved.</summary>
    Sending,

    /// <summary>ActivePlatform accepted the call as an async task (its id is kept); the task's end decides. Unresolved.</summary>
    AsyncTask,

    /// <summary>ActivePlatform applied it; the evidence says how Bridge knows (its answer, or a read-back attributed to it).</summary>
    Applied,

    /// <summary>
    /// It did not happen: an answer that proves nothing was applied, or a read-back showing no change. May be sent again.
    /// One exception, said in its evidence: a closing-document update whose outcome cannot be told (harmless to repeat, so
    /// nothing for an operator to decide) is recorded so too, while its version counts as written for ordering.
    /// </summary>
    NotApplied,

    /// <summary>It may have happened and nothing Bridge can read tells: never sent again automatically; an operator decides.</summary>
    Unknown,
}

/// <summary>
/// Names one effect: its <paramref name="Scope"/> (kind and tenant, e.g. <c>statement-line:1</c>), its natural key within the
/// scope, and the group in which at most one effect may be unresolved at a time (the payment whose lines they are, the
/// document whose creates they are).
/// </summary>
public sealed record EffectId(string Scope, string Key, string Group)
{
    /// <summary>A fixed-width primary key for any length of scope and key.</summary>
    public string Hash { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Scope + "\n" + Key)));
}

/// <summary>One journal row as read, with how long ago (by the database's clock) the call was recorded as sent.</summary>
/// <param name="Attempt">Which send this is: every resolution names it, so a writer whose attempt was settled and sent
/// again by another delivery can never overwrite the newer attempt.</param>
public sealed record EffectEntry(
    EffectId Id,
    string OwnerKey,
    string Attempt,
    string Fingerprint,
    EffectState State,
    string? AsyncTaskId,
    string? Evidence,
    string? ResourceId,
    DateTimeOffset SentAt,
    TimeSpan SinceSent)
{
    public bool IsOpen => State is EffectState.Sending or EffectState.AsyncTask;

    /// <summary>
    /// The sending instance's in-flight window (<see cref="EffectTiming.InFlightWindow(Bridge.ActivePlatform.ActivePlatformOptions)"/>)
    /// as it recorded it with the send; null for a send recorded by a Bridge older than the column, or adopted from one.
    /// </summary>
    public TimeSpan? SenderWindow { get; init; }

    /// <summary>The sending instance's async polling deadline as it recorded it with the send; null as <see cref="SenderWindow"/>.</summary>
    public TimeSpan? SenderTaskDeadline { get; init; }

    public T? EvidenceAs<T>() => Evidence is null ? default : JsonSerializer.Deserialize<T>(Evidence, EffectEvidence.JsonOptions);
}

public static class EffectEvidence
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public static string Of<T>(T evidence) => JsonSerializer.Serialize(evidence, JsonOptions);
}

/// <summary>
/// The effect journal (ADR 0005): the one place that says, for every effect ActivePlatform cannot deduplicate, whether it
/// is about to be sent, sent with its outcome unknown, applied or not applied — keyed by the effect's natural key, so every
/// message for that key (a retry, a republish under a new id, a newer revision) reads the same truth.
/// </summary>
public interface IEffectJournal
{
    Task<EffectEntry?> FindAsync(EffectId id, CancellationToken cancellationToken);

    /// <summary>The group's unresolved effect, if any (at most one exists: a unique index says so).</summary>
    Task<EffectEntry?> FindOpenAsync(string scope, string group, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="FindOpenAsync"/> and <see cref="FindAsync"/> of <paramref name="own"/> in one statement: what a message
    /// reads first — is its document's (or line's) effect unresolved, and did this message's own effect already happen.
    /// </summary>
    Task<(EffectEntry? Open, EffectEntry? Own)> FindOpenAndOwnAsync(string scope, string group, EffectId own, CancellationToken cancellationToken);

    /// <summary>
    /// Records, committed before the call, that <paramref name="ownerKey"/> is sending the effect. False when the effect is
    /// already recorded in a state other than <see cref="EffectState.NotApplied"/>, or another effect of its group is
    /// unresolved — then nothing may be sent. Returns the attempt's id (null when it may not be sent), which every later
    /// write for this send must name. Throws <see cref="HeldByDeadLetterException"/>, recording nothing, once an operator's
    /// edit of a dead letter of <paramref name="ownerKey"/> holds the key (storage version 17): the delivery began before the
    /// letter was captured, and sent now its effect could go beside the edit's.
    /// </summary>
    Task<string?> TryBeginAsync(EffectId id, string ownerKey, string fingerprint, string? evidence, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="TryBeginAsync(EffectId, string, string, string?, CancellationToken)"/>, fenced by <paramref name="claim"/>:
    /// recorded only while the claim has been held all along, which the same transaction renews; when it is lost, nothing is
    /// recorded and <see cref="ClaimFence.Lost"/> is thrown.
    /// </summary>
    Task<string?> TryBeginAsync(EffectId id, string ownerKey, string fingerprint, string? evidence, ClaimFence? claim, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the send time of <paramref name="attempt"/> to now, right before it is sent, for an effect that does something
    /// between its begin and its send (reads the state its send will meet): whether a lost answer can still land is counted
    /// from the send time (<see cref="EffectTiming.InFlightWindow(Bridge.ActivePlatform.ActivePlatformOptions, EffectEntry)"/>), so time spent before the send must not count. False —
    /// then nothing may be sent — when the attempt is no longer open: another delivery settled it meanwhile (a read-back
    /// that found nothing once the window had passed since the begin). A stall between this stamp and the request leaving
    /// the process, longer than the window, is not covered (the README's known limits: a frozen process).
    /// </summary>
    Task<bool> TryStampSendAsync(EffectId id, string attempt, CancellationToken cancellationToken);

    /// <summary>
    /// Adopts into the journal, once, an effect an older Bridge sent before the journal existed and left only as a marker on
    /// its message's record: recorded open — <see cref="EffectState.AsyncTask"/> with <paramref name="asyncTaskId"/>, else
    /// <see cref="EffectState.Sending"/> — as sent at <paramref name="sentAt"/>, in one statement, so from then on it is
    /// settled like any unresolved effect by whichever message handles its group next. False when nothing was recorded: the
    /// effect is already in the journal (adopted before, by any message or instance), or another effect of its group is
    /// unresolved (settle that first).
    /// </summary>
    Task<bool> TryAdoptAsync(EffectId id, string ownerKey, string? asyncTaskId, DateTimeOffset sentAt, string? evidence, CancellationToken cancellationToken);

    /// <summary>Records the async task ActivePlatform answered with, before the first poll.</summary>
    Task SetAsyncTaskAsync(EffectId id, string attempt, string asyncTaskId, CancellationToken cancellationToken);

    /// <summary>Whether an applied effect of the scope other than <paramref name="except"/> owns the ActivePlatform resource.</summary>
    Task<bool> IsOwnedByAnotherAsync(EffectId except, string resourceId, CancellationToken cancellationToken);

    /// <summary>
    /// Closes the attempt at once, in a transaction of its own — e.g. ActivePlatform's answer, recorded before the commit that
    /// completes the message, so a commit that fails cannot turn a known answer into an unknown outcome. Throws
    /// <see cref="EffectAttemptSupersededException"/> when that attempt is no longer the open one (another delivery settled
    /// it, and perhaps sent the effect again). Closing an attempt again in the state it was closed in succeeds.
    /// </summary>
    Task ResolveAsync(EffectId id, string attempt, EffectState state, string? resourceId, string? evidence, CancellationToken cancellationToken);

    /// <summary>
    /// Closes an open attempt in <paramref name="state"/> on a read-back taken once it could no longer land — only while
    /// <paramref name="window"/> has passed since its send time as it stands when this is written, judged in the same
    /// statement. False when the attempt was closed meanwhile, or its send time was moved by the delivery sending it
    /// (<see cref="TryStampSendAsync"/>), whose send the read-back may have come too early to see: read it back again.
    /// </summary>
    Task<bool> TryResolveUnlandedAsync(EffectId id, string attempt, EffectState state, string? resourceId, string? evidence, TimeSpan window, CancellationToken cancellationToken);

    /// <summary>Closes the effect inside the caller's transaction (the one that completes the message and writes its event).</summary>
    Task ResolveAsync(DbTransaction transaction, EffectId id, string attempt, EffectState state, string? resourceId, string? evidence, CancellationToken cancellationToken);
}

/// <param name="clock">The clock the HTTP client's send deadline is counted by (<see cref="Bridge.ActivePlatform.SendDeadline"/>): the
/// host's, so a stamp and the elapsed time measured against it come from one clock.</param>
/// <param name="activePlatform">This instance's timeouts, fixed at start: every send records its in-flight window and polling
/// deadline with it (<see cref="EffectEntry.SenderWindow"/>), so that an instance configured with shorter ones never settles
/// this send before it can no longer land. Without them (a journal made by hand) nothing is recorded, and settling instances
/// go by their own.</param>
public sealed class SqlEffectJournal(
    IBridgeDatabase database,
    TimeProvider? clock = null,
    Microsoft.Extensions.Options.IOptions<Bridge.ActivePlatform.ActivePlatformOptions>? activePlatform = null) : IEffectJournal
{
    private readonly EffectJournalSql sql = EffectJournalSql.For(database.Dialect);

    // Read at the first send, not when the journal is made: a command that only reads the journal needs no ActivePlatform
    // settings (reading them validates them).
    private readonly Lazy<(long? Window, long? TaskDeadline)> sender = new(() => activePlatform is null
        ? (null, null)
        : ((long)Math.Ceiling(EffectTiming.InFlightWindow(activePlatform.Value).TotalMilliseconds),
           (long)Math.Ceiling(activePlatform.Value.AsyncTaskPolling.Deadline.TotalMilliseconds)));

    public async Task<EffectEntry?> FindAsync(EffectId id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            sql.SelectById, new { EffectId = id.Hash }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToEntry();
    }

    public async Task<EffectEntry?> FindOpenAsync(string scope, string group, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            sql.SelectOpen, new { Scope = scope, GroupKey = group }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToEntry();
    }

    public async Task<(EffectEntry? Open, EffectEntry? Own)> FindOpenAndOwnAsync(string scope, string group, EffectId own, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(own);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<RoleRow>(new CommandDefinition(
            sql.SelectOpenAndById, new { Scope = scope, GroupKey = group, EffectId = own.Hash }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        EffectEntry? open = null;
        EffectEntry? mine = null;
        foreach (var row in rows)
        {
            if (row.Role == OpenRole)
            {
                open = row.ToEntry();
            }
            else
            {
                mine = row.ToEntry();
            }
        }

        return (open, mine);
    }

    private const int OpenRole = 1;

    private sealed class RoleRow : Row
    {
        public int Role { get; set; }
    }

    public Task<string?> TryBeginAsync(EffectId id, string ownerKey, string fingerprint, string? evidence, CancellationToken cancellationToken)
        => TryBeginAsync(id, ownerKey, fingerprint, evidence, null, cancellationToken);

    /// <remarks>
    /// Each write is one statement, committed on its own: the insert of a new effect (the common case), and only when the
    /// effect is already recorded, the restart of one that did not happen. Fenced by a claim, the claim's renewal is part of
    /// that statement on PostgreSQL (<see cref="EffectJournalSql.FencedBegin"/>: the write runs only when the renewal held,
    /// and both row counts come back) — one round trip where a transaction took three; elsewhere the renewal and the write
    /// share a transaction. Either way the claim's row stays locked until the write is committed.
    /// Where PostgreSQL answers differently, always on the side of not sending (a review, 2026-12-04): its statement judges
    /// the write on the snapshot it took before waiting for the claim's row, so an effect recorded and resolved meanwhile
    /// (by the same message's stale delivery) fails the insert on the primary key — null, a retry — where a transaction would
    /// restart it; a renewal whose write wrote nothing stays committed (the caller holds the claim anyway, and gives it back
    /// when it stops); and the claim can be lost between the insert's statement and the restart's, answered as busy.
    /// </remarks>
    public async Task<string?> TryBeginAsync(EffectId id, string ownerKey, string fingerprint, string? evidence, ClaimFence? claim, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(ownerKey);
        return await BeginAsync(id, ownerKey, fingerprint, evidence, claim, cancellationToken).ConfigureAwait(false)
            ?? await NotHeldByEditAsync(ownerKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Null when no edit of a dead letter holds <paramref name="ownerKey"/>; otherwise throws
    /// <see cref="HeldByDeadLetterException"/>: a delivery that began before the letter was captured and edited (storage
    /// version 17) sends nothing, and is dead-lettered with it.
    /// </summary>
    private async Task<string?> NotHeldByEditAsync(string ownerKey, CancellationToken cancellationToken)
    {
        // The store's read; its clock only stamps what it writes.
        return await new SqlIdempotencyStore(database, TimeProvider.System).FindEditHoldAsync(ownerKey, cancellationToken).ConfigureAwait(false) is { } hold
            ? throw new HeldByDeadLetterException(ownerKey, hold.MessageType, hold.LetterId, edited: true)
            : null;
    }

    private async Task<string?> BeginAsync(EffectId id, string ownerKey, string fingerprint, string? evidence, ClaimFence? claim, CancellationToken cancellationToken)
    {
        var attempt = Guid.NewGuid().ToString("N");

        // Before sent_at is written: the write that follows must leave within its total timeout of this moment.
        Bridge.ActivePlatform.SendDeadline.SendBegins(clock);
        if (claim is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(claim.Owner);
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(claim.Lease, TimeSpan.Zero);
        }

        // The claim's values are sent only by the statements that name them.
        var parameters = new
        {
            AttemptId = attempt,
            EffectId = id.Hash,
            id.Scope,
            EffectKey = id.Key,
            GroupKey = id.Group,
            OwnerKey = ownerKey,
            Fingerprint = fingerprint,
            Evidence = evidence,
            ClaimScope = claim?.Scope,
            ClaimDocumentKey = claim?.DocumentKey,
            ClaimOwner = claim?.Owner,
            ClaimLeaseMilliseconds = claim is null ? 0 : SqlValues.Milliseconds(claim.Lease),
            SendWindowMs = sender.Value.Window,
            TaskDeadlineMs = sender.Value.TaskDeadline,
        };
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (claim is null)
            {
                // A new effect is recorded; one that did not happen may be sent again; any other recorded state forbids it.
                return await connection.ExecuteAsync(new CommandDefinition(sql.Insert, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0
                    || await connection.ExecuteAsync(new CommandDefinition(sql.Restart, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0
                    ? attempt
                    : null;
            }

            if (sql.FencedBegin is { } fenced)
            {
                foreach (var write in new[] { fenced.Insert, fenced.Restart })
                {
                    var counts = await connection.QuerySingleAsync<FencedCounts>(new CommandDefinition(write, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
                    if (counts.Renewed == 0)
                    {
                        throw claim.Lost();
                    }

                    if (counts.Written > 0)
                    {
                        return attempt;
                    }
                }

                return null;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            if (await connection.ExecuteAsync(new CommandDefinition(sql.ClaimRenew, parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 0)
            {
                throw claim.Lost();
            }

            var begun = await connection.ExecuteAsync(new CommandDefinition(sql.Insert, parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0
                || await connection.ExecuteAsync(new CommandDefinition(sql.Restart, parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
            if (!begun)
            {
                return null;
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return attempt;
        }
        catch (DbException ex) when (SqlValues.IsUniqueViolation(ex))
        {
            // The effect exists in another state, or its group already has an unresolved effect.
            return null;
        }
    }

    private sealed class FencedCounts
    {
        public long Renewed { get; set; }

        public long Written { get; set; }
    }

    public async Task<bool> TryAdoptAsync(EffectId id, string ownerKey, string? asyncTaskId, DateTimeOffset sentAt, string? evidence, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(ownerKey);
        var parameters = new
        {
            AttemptId = Guid.NewGuid().ToString("N"),
            EffectId = id.Hash,
            id.Scope,
            EffectKey = id.Key,
            GroupKey = id.Group,
            OwnerKey = ownerKey,
            Fingerprint = "",
            State = (asyncTaskId is null ? EffectState.Sending : EffectState.AsyncTask).ToString(),
            AsyncTaskId = asyncTaskId,
            Evidence = evidence,

            // SQLite: the width the journal's own times have, so they order as text.
            SentAt = database.Dialect == SqlDialect.Sqlite
                ? sentAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)
                : (object)sentAt.ToUniversalTime(),
        };
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await connection.ExecuteAsync(new CommandDefinition(sql.Adopt, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
        }
        catch (DbException ex) when (SqlValues.IsUniqueViolation(ex))
        {
            return false;
        }
    }

    public async Task<bool> TryStampSendAsync(EffectId id, string attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentException.ThrowIfNullOrEmpty(attempt);
        Bridge.ActivePlatform.SendDeadline.SendBegins(clock);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            sql.StampSend, new { EffectId = id.Hash, AttemptId = attempt }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
    }

    /// <remarks>The task id is an answer in hand: tried again while the database cannot be reached, as <see cref="ResolveAsync(EffectId, string, EffectState, string?, string?, CancellationToken)"/>.</remarks>
    public Task SetAsyncTaskAsync(EffectId id, string attempt, string asyncTaskId, CancellationToken cancellationToken)
        => DatabaseFailures.WhileUnreachableAsync(
            async () =>
            {
                await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
                var affected = await connection.ExecuteAsync(new CommandDefinition(
                    sql.SetAsyncTask, new { EffectId = id.Hash, AttemptId = attempt, AsyncTaskId = asyncTaskId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (affected == 0)
                {
                    throw new EffectAttemptSupersededException($"Effect {id.Scope}/{id.Key}: attempt {attempt} is no longer the open one; its async task {asyncTaskId} was not recorded.");
                }
            },
            cancellationToken);

    public async Task<bool> IsOwnedByAnotherAsync(EffectId except, string resourceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var owners = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            sql.CountOwners, new { except.Scope, ResourceId = resourceId, EffectId = except.Hash }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return owners > 0;
    }

    /// <remarks>
    /// What it records is an answer in hand, kept nowhere else: while the database cannot be reached (a restart, a
    /// fail-over) the write is tried again for up to <see cref="DatabaseFailures.AnswerPatience"/> rather than leave the
    /// effect open, to be found unknown by the next delivery.
    /// </remarks>
    public Task ResolveAsync(EffectId id, string attempt, EffectState state, string? resourceId, string? evidence, CancellationToken cancellationToken)
        => DatabaseFailures.WhileUnreachableAsync(
            async () =>
            {
                await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await ResolveAsync(transaction, id, attempt, state, resourceId, evidence, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            },
            cancellationToken);

    public async Task<bool> TryResolveUnlandedAsync(EffectId id, string attempt, EffectState state, string? resourceId, string? evidence, TimeSpan window, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (state is EffectState.Sending or EffectState.AsyncTask)
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "An effect is resolved as Applied, NotApplied or Unknown.");
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            sql.ResolveUnlanded,
            new { EffectId = id.Hash, AttemptId = attempt, State = state.ToString(), ResourceId = resourceId, Evidence = evidence, WindowMs = (long)window.TotalMilliseconds },
            cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
    }

    public async Task ResolveAsync(DbTransaction transaction, EffectId id, string attempt, EffectState state, string? resourceId, string? evidence, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (state is EffectState.Sending or EffectState.AsyncTask)
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "An effect is resolved as Applied, NotApplied or Unknown.");
        }

        var affected = await SqlIdempotencyStore.ConnectionOf(transaction).ExecuteAsync(new CommandDefinition(
            sql.Resolve,
            new { EffectId = id.Hash, AttemptId = attempt, State = state.ToString(), ResourceId = resourceId, Evidence = evidence },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (affected == 0)
        {
            throw new EffectAttemptSupersededException($"Effect {id.Scope}/{id.Key}: attempt {attempt} is no longer the open one (another delivery settled it); this resolution was not recorded.");
        }
    }

    /// <summary>A journal row as Dapper reads it (also read, with more columns, by <see cref="SqlEffectAdminStore"/>).</summary>
    internal class Row
    {
        public string Scope { get; set; } = "";
        public string EffectKey { get; set; } = "";
        public string GroupKey { get; set; } = "";
        public string OwnerKey { get; set; } = "";
        public string AttemptId { get; set; } = "";
        public string Fingerprint { get; set; } = "";
        public string State { get; set; } = "";
        public string? AsyncTaskId { get; set; }
        public string? Evidence { get; set; }
        public string? ResourceId { get; set; }
        public object SentAt { get; set; } = null!;
        public long SinceSentMs { get; set; }
        public long? SendWindowMs { get; set; }
        public long? TaskDeadlineMs { get; set; }

        public EffectEntry ToEntry() => new(
            new EffectId(Scope, EffectKey, GroupKey),
            OwnerKey,
            AttemptId,
            Fingerprint,
            Enum.Parse<EffectState>(State),
            AsyncTaskId,
            Evidence,
            ResourceId,
            SentAt is string text ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal) : SqlValues.ReadTimestamp(SentAt),
            TimeSpan.FromMilliseconds(Math.Max(0, SinceSentMs)))
        {
            SenderWindow = SendWindowMs is { } window ? TimeSpan.FromMilliseconds(window) : null,
            SenderTaskDeadline = TaskDeadlineMs is { } deadline ? TimeSpan.FromMilliseconds(deadline) : null,
        };
    }
}

/// <summary>
/// A send's journal entry was settled by another delivery (and possibly sent again) while this one still worked on it:
/// what this delivery knows is no longer the journal's truth, so nothing it concluded is recorded. The message is retried
/// and reads the journal again.
/// </summary>
public sealed class EffectAttemptSupersededException(string message) : Exception(message);
