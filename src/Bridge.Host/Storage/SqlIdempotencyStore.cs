using System.Data.Common;
using Dapper;

namespace Bridge.Host.Storage;

public sealed class SqlIdempotencyStore(IBridgeDatabase database, TimeProvider timeProvider) : IIdempotencyStore
{
    private readonly IdempotencySql sql = IdempotencySql.For(database.Dialect);
    private readonly SqlDialect dialect = database.Dialect;

    /// <summary>Begin, claim, read: one batch (see <see cref="BeginAndClaimAsync"/>).</summary>
    private readonly string beginAndClaim = string.Join(
        Environment.NewLine,
        IdempotencySql.For(database.Dialect).InsertReturning,
        DocumentStateSql.For(database.Dialect).Claim,
        IdempotencySql.For(database.Dialect).Select,
        IdempotencySql.For(database.Dialect).HoldingLetters);

    public async Task<IdempotencyBegin> BeginAsync(string idempotencyKey, string messageType, string fingerprint, string? documentKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        ArgumentException.ThrowIfNullOrEmpty(messageType);
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);

        // Not durable on its own (IBridgeDatabase.OpenForLeasesAsync): lost in a crash, it is begun again by the redelivery.
        await using var connection = await database.OpenForLeasesAsync(cancellationToken).ConfigureAwait(false);
        bool inserted;
        var now = timeProvider.GetUtcNow();
        try
        {
            inserted = await connection.ExecuteAsync(new CommandDefinition(
                sql.Insert,
                new
                {
                    IdempotencyKey = idempotencyKey,
                    MessageType = messageType,
                    Fingerprint = fingerprint,
                    DocumentKey = documentKey,
                    Now = SqlValues.Timestamp(dialect, now),
                },
                cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
        }
        catch (DbException exception) when (SqlValues.IsUniqueViolation(exception))
        {
            // Another caller inserted the key between our existence check and insert; it won.
            inserted = false;
        }

        if (inserted)
        {
            // Exactly what was inserted: no need to read it back.
            return new IdempotencyBegin(new IdempotencyRecord(idempotencyKey, messageType, fingerprint, documentKey, IdempotencyState.InProgress, null, null, null, now, now), true);
        }

        var record = await FindAsync(connection, idempotencyKey, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Idempotency record '{idempotencyKey}' vanished right after it was begun (purged concurrently?).");
        return new IdempotencyBegin(record, inserted);
    }

    public async Task<BeginAndClaim> BeginAndClaimAsync(
        string idempotencyKey, string messageType, string fingerprint, string scope, string documentKey, string owner, TimeSpan lease, string? replayCopy, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        ArgumentException.ThrowIfNullOrEmpty(messageType);
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        var parameters = new
        {
            IdempotencyKey = idempotencyKey,
            MessageType = messageType,
            Fingerprint = fingerprint,
            Scope = scope,
            DocumentKey = documentKey,
            Owner = owner,
            LeaseMilliseconds = SqlValues.Milliseconds(lease),
            Now = SqlValues.Timestamp(dialect, timeProvider.GetUtcNow()),
            ReplayCopy = replayCopy,
        };

        // The claim must not vanish in a crash (flows act on it at once): durable, and the begun record with it.
        for (var attempt = 1; ; attempt++)
        {
            await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await using var results = await connection.QueryMultipleAsync(new CommandDefinition(beginAndClaim, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
                var inserted = (await results.ReadAsync<string>().ConfigureAwait(false)).Any();
                var claimed = await results.ReadSingleOrDefaultAsync<SqlDocumentStateStore.Row>().ConfigureAwait(false);
                var record = await results.ReadSingleOrDefaultAsync<Row>().ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"Idempotency record '{idempotencyKey}' vanished right after it was begun (purged concurrently?).");
                var holding = (await results.ReadAsync<HoldingRow>().ConfigureAwait(false))
                    .Select(row => new HoldingLetter(SqlValues.ReadId(row.Id), SqlValues.ReadInt32(row.CopyCounted) > 0, SqlValues.ReadInt32(row.Edited) > 0))
                    .ToList();
                return new BeginAndClaim(inserted, record.ToRecord(), claimed?.ToState()) { HoldingLetters = holding };
            }
            catch (DbException exception) when (attempt == 1 && SqlValues.IsUniqueViolation(exception))
            {
                // Another caller inserted the key at the same moment and won (the claim, if it was taken, is ours by owner and
                // is taken again): once more, and the record is there to read.
            }
        }
    }

    public async Task DeleteBegunAsync(string idempotencyKey, string fingerprint, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            sql.DeleteBegun, new { IdempotencyKey = idempotencyKey, Fingerprint = fingerprint }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<IdempotencyRecord?> FindAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await FindAsync(connection, idempotencyKey, cancellationToken).ConfigureAwait(false);
    }

    public async Task SetPendingAsyncTaskAsync(string idempotencyKey, string? asyncTaskId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            sql.SetPendingAsyncTask,
            new { IdempotencyKey = idempotencyKey, AsyncTaskId = asyncTaskId, Now = SqlValues.Timestamp(dialect, timeProvider.GetUtcNow()) },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        EnsureFound(updated, idempotencyKey);
    }

    public async Task<bool> TryMarkUnjournaledSendAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            sql.MarkUnjournaledSend,
            new { IdempotencyKey = idempotencyKey, Now = SqlValues.Timestamp(dialect, timeProvider.GetUtcNow()) },
            cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
    }

    public async Task<EditHold?> FindEditHoldAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<EditHoldRow>(new CommandDefinition(
            sql.SelectEditHold, new { IdempotencyKey = idempotencyKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.LetterId is { } letter ? new EditHold(Guid.Parse(letter), row.MessageType) : null;
    }

    private sealed class EditHoldRow
    {
        public string? LetterId { get; set; }

        public string MessageType { get; set; } = "";
    }

    public async Task<IReadOnlyList<IdempotencyRecord>> FindMarkedForDocumentAsync(string messageType, string documentKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            sql.SelectMarkedForDocument, new { MessageType = messageType, DocumentKey = documentKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(row => row.ToRecord()).ToList();
    }

    /// <remarks>Also clears the pending async task: once completed, nothing is waiting on it any more.</remarks>
    public async Task<bool> CompleteAsync(DbTransaction transaction, string idempotencyKey, string outcome, string? resourceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var updated = await ConnectionOf(transaction).ExecuteAsync(new CommandDefinition(
            sql.Complete,
            new
            {
                IdempotencyKey = idempotencyKey,
                Outcome = outcome,
                ResourceId = resourceId,
                Now = SqlValues.Timestamp(dialect, timeProvider.GetUtcNow()),
            },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (updated > 0)
        {
            return true;
        }

        // Nothing in progress under this key: either another delivery completed it first, or it never began.
        var state = await ConnectionOf(transaction).ExecuteScalarAsync<string?>(new CommandDefinition(
            sql.State, new { IdempotencyKey = idempotencyKey }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        EnsureFound(state is null ? 0 : 1, idempotencyKey);
        return false;
    }

    public Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken) =>
        SqlPurge.InBatchesAsync(database, sql.Purge, olderThan, cancellationToken);

    internal static DbConnection ConnectionOf(DbTransaction transaction) =>
        transaction.Connection ?? throw new ArgumentException("The transaction has already completed.", nameof(transaction));

    private async Task<IdempotencyRecord?> FindAsync(DbConnection connection, string idempotencyKey, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            sql.Select, new { IdempotencyKey = idempotencyKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToRecord();
    }

    private static void EnsureFound(int updated, string idempotencyKey)
    {
        if (updated == 0)
        {
            throw new InvalidOperationException($"No idempotency record has the key '{idempotencyKey}'; call BeginAsync first.");
        }
    }

    private sealed class HoldingRow
    {
        public object Id { get; set; } = null!;
        public object CopyCounted { get; set; } = null!;
        public object Edited { get; set; } = null!;
    }

    private sealed class Row
    {
        public string IdempotencyKey { get; set; } = "";
        public string MessageType { get; set; } = "";
        public string Fingerprint { get; set; } = "";
        public string? DocumentKey { get; set; }
        public string State { get; set; } = "";
        public string? Outcome { get; set; }
        public string? ResourceId { get; set; }
        public string? PendingAsyncTaskId { get; set; }
        public object CreatedAt { get; set; } = null!;
        public object UpdatedAt { get; set; } = null!;

        public IdempotencyRecord ToRecord() => new(
            IdempotencyKey,
            MessageType,
            Fingerprint,
            DocumentKey,
            SqlValues.ReadState(State),
            Outcome,
            ResourceId,
            PendingAsyncTaskId,
            SqlValues.ReadTimestamp(CreatedAt),
            SqlValues.ReadTimestamp(UpdatedAt));
    }
}
