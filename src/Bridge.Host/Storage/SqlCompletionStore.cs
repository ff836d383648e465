using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Reflection;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Dapper;
using Npgsql;

namespace Bridge.Host.Storage;

/// <summary>
/// Everything one handled message decides, written in one transaction fenced by the document's claim: the claim is renewed
/// (held by <see cref="Owner"/> all along, or nothing is written), the idempotency record completed, the documents' applied
/// states and the journal entries the result closes recorded, the result event enqueued, and the claim given back (or held
/// for <see cref="HoldFor"/>).
/// </summary>
public sealed record Completion(
    string Scope,
    string DocumentKey,
    string Owner,
    TimeSpan Lease,
    string IdempotencyKey,
    string Outcome,
    string? ResourceId,
    IReadOnlyList<ScopedDocumentChange> Documents,
    IReadOnlyList<EffectResolution> Effects,
    OutboxMessage Event)
{
    /// <summary>Other claims the work took and gives back with it (<see cref="WorkResult.ReleasedClaims"/>).</summary>
    public IReadOnlyList<ScopedClaim> Releases { get; init; } = [];

    /// <summary>
    /// Instead of giving the claim back, hand it to <see cref="HoldOwner"/> for this long from the commit
    /// (<see cref="WorkResult.HoldDocumentFor"/>).
    /// </summary>
    public TimeSpan? HoldFor { get; init; }

    /// <summary>Who holds a document after the completion of <paramref name="owner"/>'s work kept it (<see cref="HoldFor"/>).</summary>
    public static string HoldOwner(string owner) => "hold:" + owner;
}

public enum CompletionResult
{
    /// <summary>Everything was written and committed.</summary>
    Committed,

    /// <summary>Another delivery holds the document's claim (this one's lease ran out): nothing was written.</summary>
    ClaimLost,

    /// <summary>Another delivery completed the record first: nothing was written.</summary>
    AlreadyCompleted,
}

public interface ICompletionStore
{
    /// <summary>
    /// Writes <paramref name="completion"/> in one transaction, or nothing. Throws <see cref="EffectAttemptSupersededException"/>
    /// (nothing written) when one of its effects' attempts is no longer the open one.
    /// </summary>
    Task<CompletionResult> CommitAsync(Completion completion, CancellationToken cancellationToken);
}

/// <remarks>
/// The statements are the stores' own (<see cref="DocumentStateSql"/>, <see cref="IdempotencySql"/>,
/// <see cref="EffectJournalSql"/>, <see cref="OutboxSql"/>) in the order they always ran, and each fence — the claim renewed,
/// the record completed, each effect's attempt still open — is judged on its row count before anything after it can decide
/// the answer: the first that failed rolls the whole transaction back. On PostgreSQL the claim's renewal and the record's
/// completion are one statement (the completion runs only when the renewal held), judged before anything else is sent;
/// the rest (documents, journal, event, release) is one batch, judged; then the commit — three round trips where there were
/// one per statement and the commit. Elsewhere (SQLite in process, SQL Server) they run one by one and the first failed
/// fence stops the transaction. What remains on PostgreSQL: when an effect's attempt was superseded, the statements after
/// it in the batch (a later effect's resolution, the event, the release) still run before the rollback; only a later
/// resolution could fail or wait there, and it takes its row in the order a successful completion does.
/// </remarks>
public sealed class SqlCompletionStore(IBridgeDatabase database, TimeProvider timeProvider) : ICompletionStore
{
    private readonly SqlDialect dialect = database.Dialect;
    private readonly DocumentStateSql documents = DocumentStateSql.For(database.Dialect);
    private readonly IdempotencySql records = IdempotencySql.For(database.Dialect);
    private readonly EffectJournalSql journal = EffectJournalSql.For(database.Dialect);
    private readonly OutboxSql outbox = OutboxSql.For(database.Dialect);
    private readonly string renewAndComplete = RenewAndComplete(database.Dialect);

    /// <summary>
    /// PostgreSQL: the stores' own renewal and completion as one statement, the completion running only when the renewal
    /// held, and the row count of each.
    /// </summary>
    private static string RenewAndComplete(SqlDialect dialect)
    {
        if (dialect != SqlDialect.PostgreSql)
        {
            return "";
        }

        static string Bare(string sql) => sql.TrimEnd().TrimEnd(';');
        var renew = Bare(DocumentStateSql.For(dialect).Renew);
        var complete = Bare(IdempotencySql.For(dialect).Complete);
        if (!renew.EndsWith("claimed_by = @Owner", StringComparison.Ordinal) || !complete.EndsWith("state = 'InProgress'", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The claim's renewal or the record's completion no longer ends with its WHERE clause; compose the fence statement anew.");
        }

        return $"""
            WITH renewed AS ({renew} RETURNING 1),
                 completed AS ({complete} AND EXISTS (SELECT 1 FROM renewed) RETURNING 1)
            SELECT (SELECT COUNT(*) FROM renewed) AS Renewed, (SELECT COUNT(*) FROM completed) AS Completed;
            """;
    }

    private sealed class FenceCounts
    {
        public long Renewed { get; set; }

        public long Completed { get; set; }
    }

    public async Task<CompletionResult> CommitAsync(Completion completion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completion);
        ArgumentException.ThrowIfNullOrEmpty(completion.Owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(completion.Lease, TimeSpan.Zero);
        foreach (var effect in completion.Effects)
        {
            if (effect.State is EffectState.Sending or EffectState.AsyncTask)
            {
                throw new ArgumentOutOfRangeException(nameof(completion), effect.State, "An effect is resolved as Applied, NotApplied or Unknown.");
            }
        }

        var statements = Statements(completion);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (connection is NpgsqlConnection npgsql)
        {
            // The two fences that decide the answer in one statement, judged before anything else is sent: the claim's
            // renewal (once it holds, its row stays locked by this transaction, so no other delivery can take the document
            // before it ends) and the record's completion, which runs only when the renewal held. A delivery that lost its
            // claim therefore touches no other row (it would lock the record's while the claim's new holder needs it), and
            // nothing after a failed fence is sent (a later statement could fail or wait on a lock and answer in its place).
            // Then the rest as one batch (documents, journal, event, release), its fences the effects' attempts.
            // The parameters are the two statements' own, so the values are those the one-by-one path would send.
            var parameters = new DynamicParameters(statements[0].Parameters);
            parameters.AddDynamicParams(statements[1].Parameters);
            var fences = await connection.QuerySingleAsync<FenceCounts>(new CommandDefinition(
                renewAndComplete,
                parameters,
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (fences.Renewed == 0 || fences.Completed == 0)
            {
                return await FailAsync(connection, transaction, completion, fences.Renewed == 0 ? Fence.Claim : Fence.Record, null, cancellationToken).ConfigureAwait(false);
            }

            var affected = await ExecuteBatchAsync(npgsql, (NpgsqlTransaction)transaction, statements, 2, statements.Count, cancellationToken).ConfigureAwait(false);
            for (var i = 2; i < statements.Count; i++)
            {
                if (affected[i - 2] <= 0 && statements[i].Fence != Fence.None)
                {
                    return await FailAsync(connection, transaction, completion, statements[i].Fence, statements[i].Effect, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        else
        {
            // One by one (SQLite in process; SQL Server), stopping at the first fence that failed.
            foreach (var statement in statements)
            {
                var affected = await connection.ExecuteAsync(new CommandDefinition(
                    statement.Sql, statement.Parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (affected <= 0 && statement.Fence != Fence.None)
                {
                    return await FailAsync(connection, transaction, completion, statement.Fence, statement.Effect, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return CompletionResult.Committed;
    }

    /// <summary>Rolls back everything and answers for the first fence that failed.</summary>
    private async Task<CompletionResult> FailAsync(DbConnection connection, DbTransaction transaction, Completion completion, Fence failed, EffectResolution? effect, CancellationToken cancellationToken)
    {
        switch (failed)
        {
            case Fence.Claim:
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return CompletionResult.ClaimLost;

            case Fence.Record:
                // Nothing in progress under this key: another delivery completed it first, or it never began.
                var state = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                    records.State, new { completion.IdempotencyKey }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return state is null
                    ? throw new InvalidOperationException($"No idempotency record has the key '{completion.IdempotencyKey}'; call BeginAsync first.")
                    : CompletionResult.AlreadyCompleted;

            default:
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                ArgumentNullException.ThrowIfNull(effect);
                throw new EffectAttemptSupersededException(
                    $"Effect {effect.Id.Scope}/{effect.Id.Key}: attempt {effect.Attempt} is no longer the open one (another delivery settled it); this resolution was not recorded.");
        }
    }

    private List<Statement> Statements(Completion completion)
    {
        var now = SqlValues.Timestamp(dialect, timeProvider.GetUtcNow());
        // The renewal first and the record second: on PostgreSQL the two are one statement of their own (renewAndComplete),
        // sent with these two statements' parameters.
        var statements = new List<Statement>(5 + completion.Documents.Count + completion.Effects.Count + completion.Releases.Count)
        {
            new(
                documents.Renew,
                new { completion.Scope, completion.DocumentKey, completion.Owner, LeaseMilliseconds = SqlValues.Milliseconds(completion.Lease) },
                Fence.Claim),
            new(records.Complete, new { completion.IdempotencyKey, completion.Outcome, completion.ResourceId, Now = now }, Fence.Record),
        };
        foreach (var document in completion.Documents)
        {
            statements.Add(new(
                documents.SetApplied,
                new { document.Scope, document.DocumentKey, document.Change.AppliedVersion, document.Change.ResourceId, document.Change.Deleted, Now = now },
                Fence.None));
        }

        foreach (var effect in completion.Effects)
        {
            statements.Add(new(
                journal.Resolve,
                new { EffectId = effect.Id.Hash, AttemptId = effect.Attempt, State = effect.State.ToString(), effect.ResourceId, effect.Evidence },
                Fence.Effect,
                effect));
        }

        statements.Add(new(outbox.Insert, SqlOutboxStore.InsertParameters(dialect, completion.Event), Fence.None));
        foreach (var claim in completion.Releases)
        {
            statements.Add(new(documents.Release, new { claim.Scope, claim.DocumentKey, claim.Owner }, Fence.None));
        }

        statements.Add(new(documents.Release, new { completion.Scope, completion.DocumentKey, completion.Owner }, Fence.None));
        if (completion.HoldFor is { } hold)
        {
            // Handed to an owner of its own: the delivery's heartbeat (a renewal racing the commit) cannot shorten it, and its
            // clean-up after a commit whose answer was lost cannot give it back.
            statements.Add(new(
                documents.Claim,
                new { completion.Scope, completion.DocumentKey, Owner = Completion.HoldOwner(completion.Owner), LeaseMilliseconds = SqlValues.Milliseconds(hold), Now = now },
                Fence.None));
        }

        return statements;
    }

    private static async Task<int[]> ExecuteBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<Statement> statements, int from, int to, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        for (var i = from; i < to; i++)
        {
            var command = new NpgsqlBatchCommand(statements[i].Sql);
            NpgsqlParameters.AddFrom(command.Parameters, statements[i].Parameters);
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        var affected = new int[to - from];
        for (var i = 0; i < affected.Length; i++)
        {
            affected[i] = batch.BatchCommands[i].RecordsAffected;
        }

        return affected;
    }

    private enum Fence
    {
        None,
        Claim,
        Record,
        Effect,
    }

    private sealed record Statement(string Sql, object Parameters, Fence Fence, EffectResolution? Effect = null);
}

/// <summary>
/// A parameter object's properties as Npgsql parameters, typed as Dapper types them: by the value, or for a null by the
/// property's declared type (so <c>COALESCE(@ResourceId, …)</c> reads a typed null).
/// </summary>
internal static class NpgsqlParameters
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new();

    public static void AddFrom(NpgsqlParameterCollection parameters, object values)
    {
        foreach (var property in Properties.GetOrAdd(values.GetType(), type => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)))
        {
            var value = property.GetValue(values);
            parameters.Add(value is null
                ? new NpgsqlParameter(property.Name, DbTypeOf(property.PropertyType)) { Value = DBNull.Value }
                : new NpgsqlParameter(property.Name, value));
        }
    }

    private static DbType DbTypeOf(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(string) => DbType.String,
        var t when t == typeof(int) => DbType.Int32,
        var t when t == typeof(long) => DbType.Int64,
        var t when t == typeof(bool) => DbType.Boolean,
        var t when t == typeof(Guid) => DbType.Guid,
        var t when t == typeof(DateTimeOffset) => DbType.DateTimeOffset,
        var t => throw new NotSupportedException($"No database type for a null {t.Name}."),
    };
}
