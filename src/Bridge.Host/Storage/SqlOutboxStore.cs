using System.Data.Common;
using Dapper;

namespace Bridge.Host.Storage;

public sealed class SqlOutboxStore(IBridgeDatabase database, TimeProvider timeProvider) : IOutboxStore
{
    /// <summary>Exception texts can be long (stack traces); the newest error only needs to say what went wrong.</summary>
    public const int MaxErrorLength = 4000;

    private readonly OutboxSql sql = OutboxSql.For(database.Dialect);
    private readonly SqlDialect dialect = database.Dialect;

    public async Task EnqueueAsync(DbTransaction transaction, OutboxMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(message);
        await SqlIdempotencyStore.ConnectionOf(transaction).ExecuteAsync(new CommandDefinition(
            sql.Insert,
            InsertParameters(dialect, message),
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The parameters of <see cref="OutboxSql.Insert"/> for <paramref name="message"/> (also written by <see cref="SqlCompletionStore"/>).</summary>
    internal static object InsertParameters(SqlDialect dialect, OutboxMessage message) => new
    {
        Id = SqlValues.Id(dialect, message.Id),
        message.MessageType,
        message.Body,
        message.Headers,
        CreatedAt = SqlValues.Timestamp(dialect, message.CreatedAt),
        message.Attempts,
        message.TraceParent,
        message.TraceState,
        message.SourceMessageId,
    };

    /// <remarks>
    /// A claim is a lease: if this owner crashes, the rows become claimable again once <paramref name="lease"/> has
    /// passed by the database's clock, so a message may be published twice but is never lost.
    /// </remarks>
    public async Task<IReadOnlyList<OutboxMessage>> ClaimAsync(string owner, int batchSize, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            sql.Claim,
            new { Owner = owner, BatchSize = batchSize, LeaseMilliseconds = SqlValues.Milliseconds(lease) },
            cancellationToken: cancellationToken)).ConfigureAwait(false);

        // UPDATE ... RETURNING/OUTPUT does not promise any order: the claim's own order, so messages never tried go first.
        return rows.Select(row => row.ToMessage())
            .OrderBy(message => message.Attempts).ThenBy(message => message.CreatedAt).ThenBy(message => message.Id)
            .ToList();
    }

    /// <remarks>
    /// Recorded even if this owner's lease has lapsed meanwhile: the message was published, and saying so spares
    /// a second copy. <c>locked_by</c> keeps the owner as the instance that published it.
    /// </remarks>
    public async Task MarkDispatchedAsync(IReadOnlyCollection<Guid> ids, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return;
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            sql.MarkDispatched,
            new { Ids = IdList(ids), Owner = owner, Now = SqlValues.Timestamp(dialect, timeProvider.GetUtcNow()) },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// A list of ids for one statement: an array on PostgreSQL (<c>= ANY(@Ids)</c>), a JSON array of their text on SQLite
    /// (<c>json_each</c>), and on SQL Server the list Dapper expands into one parameter each (<c>IN @Ids</c>: no
    /// <c>OPENJSON</c>, which needs compatibility level 130; a batch stays far below the 2 100 parameters allowed).
    /// </summary>
    private object IdList(IReadOnlyCollection<Guid> ids) => dialect switch
    {
        SqlDialect.PostgreSql => ids.ToArray(),
        SqlDialect.SqlServer => ids.ToList(),
        _ => System.Text.Json.JsonSerializer.Serialize(ids.Select(id => id.ToString("D"))),
    };

    /// <remarks>Ignored when <paramref name="owner"/> no longer holds the claim: the new holder counts its own attempts.</remarks>
    public async Task<bool> MarkFailedAsync(Guid id, string owner, string error, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            sql.MarkFailed,
            new { Id = SqlValues.Id(dialect, id), Owner = owner, Error = Truncated(error), RetryAfterMilliseconds = SqlValues.Milliseconds(retryAfter) },
            cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
    }

    /// <remarks>Ignored when <paramref name="owner"/> no longer holds the claim: the new holder counts its own attempts.</remarks>
    public async Task<bool> ParkAsync(Guid id, string owner, string error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            sql.Park,
            new { Id = SqlValues.Id(dialect, id), Owner = owner, Error = Truncated(error), Now = SqlValues.Timestamp(dialect, timeProvider.GetUtcNow()) },
            cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
    }

    public async Task<long> CountPendingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            sql.CountPending, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<long> CountParkedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            sql.CountParked, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<OutboxBacklog> GetBacklogAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleAsync<BacklogRow>(new CommandDefinition(
            sql.Backlog, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new OutboxBacklog(
            Convert.ToInt64(row.Pending ?? 0L, System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt64(row.Parked ?? 0L, System.Globalization.CultureInfo.InvariantCulture),
            row.OldestPendingAt is null or DBNull ? null : SqlValues.ReadTimestamp(row.OldestPendingAt));
    }

    public Task<int> PurgeDispatchedAsync(DateTimeOffset olderThan, CancellationToken cancellationToken) =>
        SqlPurge.InBatchesAsync(database, sql.PurgeDispatched, olderThan, cancellationToken);

    private static string Truncated(string error) => error.Length > MaxErrorLength ? error[..MaxErrorLength] : error;

    private sealed class Row
    {
        public object Id { get; set; } = null!;
        public string MessageType { get; set; } = "";
        public string Body { get; set; } = "";
        public string Headers { get; set; } = "";
        public object CreatedAt { get; set; } = null!;
        public object Attempts { get; set; } = null!;
        public string? TraceParent { get; set; }
        public string? TraceState { get; set; }

        public OutboxMessage ToMessage() => new(
            SqlValues.ReadId(Id), MessageType, Body, Headers, SqlValues.ReadTimestamp(CreatedAt), SqlValues.ReadInt32(Attempts))
        {
            TraceParent = TraceParent,
            TraceState = TraceState,
        };
    }

    private sealed class BacklogRow
    {
        public object? Pending { get; set; }
        public object? Parked { get; set; }
        public object? OldestPendingAt { get; set; }
    }
}
