using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Bridge.Host.Storage;
using Dapper;

namespace Bridge.Host.DeadLetters.Store;

public sealed class SqlDeadLetterStore(IBridgeDatabase database, TimeProvider timeProvider) : IDeadLetterStore
{
    public const int MaxPageSize = 500;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly DeadLetterSql sql = DeadLetterSql.For(database.Dialect);
    private readonly SqlDialect dialect = database.Dialect;

    public async Task<DeadLetterCaptured> CaptureAsync(DbTransaction transaction, NewDeadLetter letter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(letter);
        var connection = transaction.Connection ?? throw new ArgumentException("The transaction has already completed.", nameof(transaction));
        // Whatever the message holds, its dead letter is storable: descriptive columns escaped (StorableText), the body
        // and headers exact (base64 for a body a database would refuse as text, headers as JSON).
        var exceptionType = StorableText.Column(letter.ExceptionType, 500)!;
        var exceptionMessage = StorableText.Escape(letter.ExceptionMessage, multiline: true)!;
        var normalized = FailureCause.Normalize(exceptionMessage);
        var body = letter.Body.Storable();
        var parameters = new DynamicParameters(new
        {
            Id = SqlValues.Id(dialect, letter.Id),
            SourceQueue = StorableText.Column(letter.SourceQueue, 300),
            MessageType = StorableText.Column(letter.MessageType, 200),
            MessageId = StorableText.Column(letter.MessageId, 255),
            IdentityHash = IdentityHash(letter.MessageId, body),
            IdempotencyKey = Idempotency.IdempotencyKeys.IsStorable(letter.IdempotencyKey) ? letter.IdempotencyKey : null,
            ErpKey = StorableText.Column(letter.ErpKey, 300),
            CorrelationId = StorableText.Column(letter.CorrelationId, 255),
            ContentType = StorableText.Column(letter.ContentType, 255),
            Body = body.Text,
            BodyEncoding = body.Encoding,
            Headers = JsonSerializer.Serialize(letter.Headers, Json),
            ExceptionType = exceptionType,
            ExceptionMessage = exceptionMessage,
            StackTrace = StorableText.Escape(letter.StackTrace, multiline: true),
            FailureGroup = FailureCause.Group(exceptionType, normalized),
            NormalizedMessage = normalized,
            letter.AttemptCount,
            FailedAt = SqlValues.Timestamp(dialect, letter.FailedAt),
        });
        // A replayed copy of this very letter failing again is one copy fewer that may be in the queue — counted once per copy:
        // its row is deleted here, and a second capture of the same copy (redelivered after this commit, imported again from
        // the error queue) finds none. A copy from a Bridge older than version 15 carries no copy id and counts by its header.
        // The copy is taken off its letter's count here, whichever letter the capture lands on: a message without a message
        // id has no identity and is a letter of its own at every capture.
        var replayOf = letter.ReplayOf;
        if (replayOf is { } of && letter.ReplayCopy is { } copy)
        {
            var ofId = SqlValues.Id(dialect, of);
            if (await connection.ExecuteAsync(new CommandDefinition(
                    sql.DeleteReplayCopy, new { ReplayOf = ofId, CopyId = copy }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    sql.UncountReplayCopy, new { ReplayOf = ofId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }

            replayOf = null;
        }

        parameters.Add("ReplayOf", replayOf is { } counted ? SqlValues.Id(dialect, counted) : null, dialect == SqlDialect.Sqlite ? DbType.String : DbType.Guid);
        var row = await connection.QuerySingleAsync<CapturedRow>(new CommandDefinition(sql.Upsert, parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);

        var captured = new DeadLetterCaptured(SqlValues.ReadId(row.Id), SqlValues.ReadInt32(row.FailureCount));
        // A discarded letter (by an operator, or replaced by an edited copy) stays Discarded: made Pending, a bulk replay
        // would send what the operator decided not to send.
        var stillDiscarded = string.Equals(row.Status as string, nameof(DeadLetterStatus.Discarded), StringComparison.Ordinal);
        var action = captured.FailureCount == 1
            ? new DeadLetterAction("bridge", "Captured", "Pending", $"{exceptionType}: {Shorten(exceptionMessage)}")
            : stillDiscarded
                ? new DeadLetterAction("bridge", "FailedAgain", "Discarded", $"failure {captured.FailureCount}: {exceptionType}: {Shorten(exceptionMessage)}; it stays Discarded as an operator left it (restore it to replay it)")
                : new DeadLetterAction("bridge", "FailedAgain", "Pending", $"failure {captured.FailureCount}: {exceptionType}: {Shorten(exceptionMessage)}");
        await InsertAuditAsync(transaction, captured.Id, action, letter.FailedAt, cancellationToken).ConfigureAwait(false);
        return captured;
    }

    /// <summary>
    /// What makes two failed deliveries one dead letter: SHA-256 over the message id as the publisher wrote it (before any
    /// escaping) and the body's bytes, so a redelivery or a replay failing again lands on its dead letter while another
    /// message reusing the id does not. Null without a message id: such deliveries cannot be told apart and are never merged.
    /// </summary>
    public static string? IdentityHash(string? messageId, DeadLetterBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (messageId is null)
        {
            return null;
        }

        var id = System.Text.Encoding.UTF8.GetBytes(messageId);
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, id.Length);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData("bridge-dead-letter-v1\n"u8);
        hash.AppendData(length);
        hash.AppendData(id);
        hash.AppendData(body.ToBytes());
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public async Task<DeadLetterPage> QueryAsync(DeadLetterFilter filter, int page, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(page, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxPageSize);

        var parameters = FilterParameters(filter);
        parameters.Add("Skip", (page - 1) * pageSize, DbType.Int32);
        parameters.Add("Take", pageSize, DbType.Int32);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<SummaryRow>(new CommandDefinition(sql.Query, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(sql.QueryCount, FilterParameters(filter), cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new DeadLetterPage(rows.Select(row => row.ToSummary()).ToList(), total, page, pageSize);
    }

    public async Task<IReadOnlyList<DeadLetterGroup>> GroupsAsync(DeadLetterFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<GroupRow>(new CommandDefinition(sql.Groups, FilterParameters(filter), cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => new DeadLetterGroup(
            row.FailureGroup,
            row.ExceptionType,
            row.NormalizedMessage,
            Convert.ToInt64(row.Count, CultureInfo.InvariantCulture),
            SqlValues.ReadTimestamp(row.FirstSeen),
            SqlValues.ReadTimestamp(row.LastSeen))).ToList();
    }

    public async Task<DeadLetterDetails?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<FullRow>(new CommandDefinition(
            sql.Select, new { Id = SqlValues.Id(dialect, id) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        var audit = await connection.QueryAsync<AuditRow>(new CommandDefinition(
            sql.AuditSelect, new { Id = SqlValues.Id(dialect, id) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new DeadLetterDetails(row.ToDeadLetter(), audit.Select(entry => entry.ToEntry()).ToList());
    }

    public async Task<bool> TryClaimReplayAsync(Guid id, string owner, TimeSpan lease, string copyId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lease, TimeSpan.FromDays(365));
        if (!Guid.TryParse(copyId, out _))
        {
            throw new ArgumentException("A replayed copy's id is a GUID.", nameof(copyId));
        }

        // A replay that died before recording holds its dead letter only until its lease ends: then it is Pending again
        // (audited), and claimed like any other.
        await ReleaseExpiredReplaysAsync(id, cancellationToken).ConfigureAwait(false);
        var now = SqlValues.Timestamp(dialect, timeProvider.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await LockKeyLettersAsync(transaction, id, cancellationToken).ConfigureAwait(false);
        var claimed = await connection.ExecuteAsync(new CommandDefinition(
            sql.ClaimReplay,
            new { Id = SqlValues.Id(dialect, id), Owner = owner, Now = now, LeaseMilliseconds = (long)lease.TotalMilliseconds },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
        if (!claimed)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return false;
        }

        // The copy the claim counted, by the id it will carry: only its own capture takes it away.
        await connection.ExecuteAsync(new CommandDefinition(
            sql.InsertReplayCopy, new { Id = SqlValues.Id(dialect, id), CopyId = copyId, Now = now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> TryClaimEditAsync(Guid id, string owner, TimeSpan lease, string editMessageId, DeadLetterAction sending, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentException.ThrowIfNullOrEmpty(editMessageId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(editMessageId.Length, 36);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lease, TimeSpan.FromDays(365));
        await ReleaseExpiredReplaysAsync(id, cancellationToken).ConfigureAwait(false);
        // The claim, the edit's marker and its Sending entry commit together: no edit is sent that a replay could still claim after.
        return await TransitionAsync(
            sql.ClaimEdit,
            id,
            new { Owner = owner, LeaseMilliseconds = (long)lease.TotalMilliseconds, EditMessageId = editMessageId },
            sending,
            cancellationToken,
            first: async transaction =>
            {
                await LockKeyLettersAsync(transaction, id, cancellationToken).ConfigureAwait(false);

                // Before the claim judges the key's effects: waits for every begin of one reading the record, and holds off the rest.
                await transaction.Connection!.ExecuteAsync(new CommandDefinition(
                    sql.HoldKeyForEdit, new { Id = SqlValues.Id(dialect, id) }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return new { };
            }).ConfigureAwait(false);
    }

    /// <summary>Locks the letters of <paramref name="id"/>'s key in id order before a claim judges them (<see cref="DeadLetterSql.LockKeyLetters"/>).</summary>
    private Task LockKeyLettersAsync(DbTransaction transaction, Guid id, CancellationToken cancellationToken) =>
        transaction.Connection!.ExecuteAsync(new CommandDefinition(sql.LockKeyLetters, new { Id = SqlValues.Id(dialect, id) }, transaction, cancellationToken: cancellationToken));

    public async Task<IReadOnlyList<Guid>> ReleaseExpiredReplaysAsync(Guid? id, CancellationToken cancellationToken)
    {
        var parameters = new DynamicParameters();
        parameters.Add("Id", id is { } one ? SqlValues.Id(dialect, one) : null, dialect == SqlDialect.Sqlite ? DbType.String : DbType.Guid);
        List<ExpiredReplayRow> expired;
        await using (var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            expired = (await connection.QueryAsync<ExpiredReplayRow>(new CommandDefinition(
                sql.SelectExpiredReplays, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        }

        var released = new List<Guid>();
        foreach (var row in expired)
        {
            var deadLetterId = SqlValues.ReadId(row.Id);
            var endedAt = string.Create(CultureInfo.InvariantCulture, $"{SqlValues.ReadTimestamp(row.ExpiresAt):O}");
            // Only an edit's claim marks the letter with an edit: a replay never claims one that carries it.
            var audit = new DeadLetterAction(
                "bridge",
                "ReplayLeaseExpired",
                "Pending",
                row.EditMessageId is { } edit
                    ? $"The edit (message {edit}) claimed by {row.Owner} was not recorded before its lease ended at {endedAt} (database time): it may or may not have reached {row.SourceQueue}. Sending that same edit again is safe (it is the same message, answered as a duplicate); the original or another edit never is: it could be applied beside this one."
                    : $"The replay claimed by {row.Owner} was not recorded before its lease ended at {endedAt} (database time): it may or may not have reached {row.SourceQueue}. Replaying it again is safe: the message's idempotency record answers a second delivery as a duplicate. An edit is refused until the copy is seen failing again.");
            // Conditional on the same owner's claim still being there, expired: of two releasers, or a late recorder, one wins.
            if (await TransitionAsync(sql.ReleaseExpiredReplay, deadLetterId, new { row.Owner }, audit, cancellationToken).ConfigureAwait(false))
            {
                released.Add(deadLetterId);
            }
        }

        return released;
    }

    public Task<bool> CompleteReplayAsync(Guid id, string owner, DeadLetterAction audit, CancellationToken cancellationToken) =>
        TransitionAsync(sql.CompleteReplay, id, new { Owner = owner }, audit, cancellationToken);

    public Task<bool> ReleaseReplayAsync(Guid id, string owner, DeadLetterAction audit, CancellationToken cancellationToken, string? notSentCopy = null) =>
        TransitionAsync(
            sql.ReleaseReplay,
            id,
            new { Owner = owner },
            audit,
            cancellationToken,
            // The copy that never left is taken back with the claim, in the same transaction: its row (so no capture can count
            // it) and the count — only when its row was still there.
            async transaction => new
            {
                Unsent = notSentCopy is not null && await SqlIdempotencyStore.ConnectionOf(transaction).ExecuteAsync(new CommandDefinition(
                    sql.DeleteReplayCopy, new { ReplayOf = SqlValues.Id(dialect, id), CopyId = notSentCopy }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1
                    ? 1 : 0,
            });

    public Task<bool> CompleteEditAsync(Guid id, string owner, string reason, DeadLetterAction audit, CancellationToken cancellationToken) =>
        TransitionAsync(sql.CompleteEdit, id, new { Owner = owner, Reason = reason }, audit, cancellationToken);

    public async Task<bool> DiscardAsync(Guid id, string reason, DeadLetterAction audit, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        await ReleaseExpiredReplaysAsync(id, cancellationToken).ConfigureAwait(false);
        return await TransitionAsync(sql.Discard, id, new { Reason = StorableText.Escape(reason, multiline: true) }, audit, cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> RestoreAsync(Guid id, DeadLetterAction audit, CancellationToken cancellationToken) =>
        TransitionAsync(sql.Restore, id, null, audit, cancellationToken);

    public Task AuditAsync(DbTransaction transaction, Guid id, DeadLetterAction audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(audit);
        return InsertAuditAsync(transaction, id, audit, timeProvider.GetUtcNow(), cancellationToken);
    }

    public async Task AuditAsync(Guid id, DeadLetterAction audit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await InsertAuditAsync(transaction, id, audit, timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<Guid>> KeylessAsync(Guid after, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var command = new CommandDefinition(sql.SelectKeyless, new { After = SqlValues.Id(dialect, after) }, cancellationToken: cancellationToken);
        return dialect == SqlDialect.Sqlite
            ? [.. (await connection.QueryAsync<string>(command).ConfigureAwait(false)).Select(Guid.Parse)]
            : [.. await connection.QueryAsync<Guid>(command).ConfigureAwait(false)];
    }

    public async Task<bool> SetIdempotencyKeyAsync(Guid id, string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            sql.SetIdempotencyKey, new { Id = SqlValues.Id(dialect, id), IdempotencyKey = idempotencyKey }, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
    }

    public async Task<KeyHolders> KeyHoldersAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync<KeyHolderRow>(new CommandDefinition(
            sql.KeyHolders, new { Id = SqlValues.Id(dialect, id) }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        return rows.Count == 0
            ? new KeyHolders(null, false, [])
            : new KeyHolders(
                rows[0].IdempotencyKey,
                SqlValues.ReadInt32(rows[0].Answered) > 0,
                [.. rows.Where(row => row.OtherId is not null).Select(row => new KeyHolder(
                    SqlValues.ReadId(row.OtherId!), Enum.Parse<DeadLetterStatus>(row.OtherStatus!), SqlValues.ReadInt32(row.OtherCopies!), SqlValues.ReadInt32(row.OtherEdited) > 0))])
            {
                Effect = rows[0].Effect?.Split(':', 2) is [var state, var effectId] ? new KeyEffect(effectId, state) : null,
                SentUnjournaled = SqlValues.ReadInt32(rows[0].Sent) > 0,
            };
    }

    private sealed class KeyHolderRow
    {
        public string? IdempotencyKey { get; set; }
        public object Answered { get; set; } = null!;
        public object? OtherId { get; set; }
        public string? OtherStatus { get; set; }
        public object? OtherCopies { get; set; }
        public object OtherEdited { get; set; } = null!;
        public string? Effect { get; set; }
        public object Sent { get; set; } = 0;
    }

    public Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken) =>
        SqlPurge.InBatchesAsync(database, sql.Purge, olderThan, cancellationToken);

    public async Task<IReadOnlyDictionary<DeadLetterStatus, long>> CountByStatusAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<CountRow>(new CommandDefinition(sql.CountByStatus, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var counts = Enum.GetValues<DeadLetterStatus>().ToDictionary(status => status, _ => 0L);
        foreach (var row in rows)
        {
            counts[Enum.Parse<DeadLetterStatus>(row.Status)] = Convert.ToInt64(row.Count, CultureInfo.InvariantCulture);
        }

        return counts;
    }

    /// <summary>The conditional update and its audit entry in one transaction; nothing is written when the update matches no row.</summary>
    private async Task<bool> TransitionAsync(
        string statement, Guid id, object? extra, DeadLetterAction audit, CancellationToken cancellationToken, Func<DbTransaction, Task<object>>? first = null)
    {
        ArgumentNullException.ThrowIfNull(audit);
        var now = timeProvider.GetUtcNow();
        var parameters = new DynamicParameters(extra);
        parameters.Add("Id", SqlValues.Id(dialect, id));
        parameters.Add("Now", SqlValues.Timestamp(dialect, now));

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (first is not null)
        {
            // A statement of the same transaction before the update, whose answer the update takes as parameters.
            parameters.AddDynamicParams(await first(transaction).ConfigureAwait(false));
        }

        var changed = await connection.ExecuteAsync(new CommandDefinition(statement, parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
        if (!changed)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return false;
        }

        await InsertAuditAsync(transaction, id, audit, now, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private Task InsertAuditAsync(DbTransaction transaction, Guid id, DeadLetterAction audit, DateTimeOffset at, CancellationToken cancellationToken) =>
        transaction.Connection!.ExecuteAsync(new CommandDefinition(
            sql.AuditInsert,
            new
            {
                DeadLetterId = SqlValues.Id(dialect, id),
                At = SqlValues.Timestamp(dialect, at),
                Actor = StorableText.Column(audit.Actor, 200),
                Action = StorableText.Column(audit.Action, 50),
                Outcome = StorableText.Column(audit.Outcome, 200),
                Detail = StorableText.Escape(audit.Detail, multiline: true),
            },
            transaction,
            cancellationToken: cancellationToken));

    /// <summary>
    /// Every filter is bound even when unset, with an explicit type: a null of unknown type is what PostgreSQL cannot
    /// plan and SQL Server would compare as text.
    /// </summary>
    private DynamicParameters FilterParameters(DeadLetterFilter filter)
    {
        var parameters = new DynamicParameters();
        parameters.Add("Status", filter.Status?.ToString(), DbType.String);
        // Escaped as the columns are, so a raw value finds its stored form and nothing unstorable reaches the database.
        parameters.Add("MessageType", StorableText.Escape(NullIfBlank(filter.MessageType)), DbType.String);
        parameters.Add("Queue", StorableText.Escape(NullIfBlank(filter.Queue)), DbType.String);
        parameters.Add("ErpKey", StorableText.Escape(NullIfBlank(filter.ErpKey)), DbType.String);
        parameters.Add("ExceptionType", StorableText.Escape(NullIfBlank(filter.ExceptionType)), DbType.String);
        parameters.Add("FailureGroup", StorableText.Escape(NullIfBlank(filter.FailureGroup)), DbType.String);
        parameters.Add("Text", StorableText.Escape(NullIfBlank(filter.Text)) is { } text ? "%" + EscapeLike(text) + "%" : null, DbType.String);
        AddTimestamp(parameters, "From", filter.From);
        AddTimestamp(parameters, "To", filter.To);
        return parameters;
    }

    private void AddTimestamp(DynamicParameters parameters, string name, DateTimeOffset? value)
    {
        if (dialect == SqlDialect.Sqlite)
        {
            parameters.Add(name, value is { } v ? SqlValues.Timestamp(dialect, v) : null, DbType.String);
        }
        else
        {
            parameters.Add(name, value?.ToUniversalTime(), DbType.DateTimeOffset);
        }
    }

    private string EscapeLike(string text)
    {
        var escaped = text.Replace(@"\", @"\\", StringComparison.Ordinal)
            .Replace("%", @"\%", StringComparison.Ordinal)
            .Replace("_", @"\_", StringComparison.Ordinal);

        // In SQL Server's LIKE a bracket opens a character class.
        return dialect == SqlDialect.SqlServer ? escaped.Replace("[", @"\[", StringComparison.Ordinal) : escaped;
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string Shorten(string value, int max = 500) => StorableText.Clip(value, max);

    private sealed class CapturedRow
    {
        public object Id { get; set; } = null!;
        public object FailureCount { get; set; } = null!;

        public object? Status { get; set; }
    }

    private sealed class ExpiredReplayRow
    {
        public object Id { get; set; } = null!;
        public string SourceQueue { get; set; } = "";
        public string Owner { get; set; } = "";
        public object ExpiresAt { get; set; } = null!;
        public string? EditMessageId { get; set; }
    }

    private sealed class CountRow
    {
        public string Status { get; set; } = "";
        public object Count { get; set; } = null!;
    }

    private sealed class GroupRow
    {
        public string FailureGroup { get; set; } = "";
        public string ExceptionType { get; set; } = "";
        public string NormalizedMessage { get; set; } = "";
        public object Count { get; set; } = null!;
        public object FirstSeen { get; set; } = null!;
        public object LastSeen { get; set; } = null!;
    }

    private class SummaryRow
    {
        public object Id { get; set; } = null!;
        public string SourceQueue { get; set; } = "";
        public string MessageType { get; set; } = "";
        public string? MessageId { get; set; }
        public string? ErpKey { get; set; }
        public string ExceptionType { get; set; } = "";
        public string ExceptionMessage { get; set; } = "";
        public string FailureGroup { get; set; } = "";
        public object AttemptCount { get; set; } = null!;
        public object FailureCount { get; set; } = null!;
        public object FirstFailedAt { get; set; } = null!;
        public object LastFailedAt { get; set; } = null!;
        public string Status { get; set; } = "";
        public string? StatusReason { get; set; }
        public object ReplayCount { get; set; } = null!;

        public DeadLetterSummary ToSummary() => new(
            SqlValues.ReadId(Id),
            SourceQueue,
            MessageType,
            MessageId,
            ErpKey,
            ExceptionType,
            ExceptionMessage,
            FailureGroup,
            SqlValues.ReadInt32(AttemptCount),
            SqlValues.ReadInt32(FailureCount),
            SqlValues.ReadTimestamp(FirstFailedAt),
            SqlValues.ReadTimestamp(LastFailedAt),
            Enum.Parse<DeadLetterStatus>(Status),
            StatusReason,
            SqlValues.ReadInt32(ReplayCount));
    }

    private sealed class FullRow : SummaryRow
    {
        public string? CorrelationId { get; set; }
        public string? ContentType { get; set; }
        public string Body { get; set; } = "";
        public string BodyEncoding { get; set; } = "";
        public string Headers { get; set; } = "";
        public string? StackTrace { get; set; }
        public string NormalizedMessage { get; set; } = "";
        public string? ReplayClaimedBy { get; set; }
        public object? ReplayClaimExpiresAt { get; set; }
        public object UpdatedAt { get; set; } = null!;
        public string? EditMessageId { get; set; }
        public object? OriginalSentAt { get; set; }

        public DeadLetter ToDeadLetter() => new(
            ToSummary(),
            CorrelationId,
            ContentType,
            new DeadLetterBody(Body, BodyEncoding),
            JsonSerializer.Deserialize<Dictionary<string, string?>>(Headers, Json) ?? [],
            StackTrace,
            NormalizedMessage,
            ReplayClaimedBy,
            ReplayClaimExpiresAt is null ? null : SqlValues.ReadTimestamp(ReplayClaimExpiresAt),
            SqlValues.ReadTimestamp(UpdatedAt),
            EditMessageId,
            OriginalSentAt is null ? null : SqlValues.ReadTimestamp(OriginalSentAt));
    }

    private sealed class AuditRow
    {
        public object Id { get; set; } = null!;
        public object At { get; set; } = null!;
        public string Actor { get; set; } = "";
        public string Action { get; set; } = "";
        public string Outcome { get; set; } = "";
        public string? Detail { get; set; }

        public DeadLetterAuditEntry ToEntry() => new(Convert.ToInt64(Id, CultureInfo.InvariantCulture), SqlValues.ReadTimestamp(At), Actor, Action, Outcome, Detail);
    }
}
