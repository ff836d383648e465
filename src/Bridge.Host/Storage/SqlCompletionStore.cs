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
/// states and the journal entries the result closes recorded, the result event enqueued, and the claim given back.
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
    OutboxMessage Event);

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
/// <see cref="EffectJournalSql"/>, <see cref="OutboxSql"/>) in the order they always ran. The claim's renewal goes first and
/// alone; once it holds, on PostgreSQL the rest travel as one batch and the commit follows — three round trips where there
/// were one per statement and the commit. In the batch every statement runs, and the fences that remain — the record
/// completed, each effect's attempt still open — are judged on their row counts before anything is committed: a failed one
/// rolls the whole transaction back, so what a statement after it wrote is never kept. Elsewhere (SQLite in process, SQL
/// Server) they run one by one and the first failed fence stops the transaction.
/// </remarks>
public sealed class SqlCompletionStore(IBridgeDatabase database, TimeProvider timeProvider) : ICompletionStore
{
    private readonly SqlDialect dialect = database.Dialect;
    private readonly DocumentStateSql documents = DocumentStateSql.For(database.Dialect);
    private readonly IdempotencySql records = IdempotencySql.For(database.Dialect);
    private readonly EffectJournalSql journal = EffectJournalSql.For(database.Dialect);
    private readonly OutboxSql outbox = OutboxSql.For(database.Dialect);

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

        // The claim first and alone: renewed, its row stays locked by this transaction, so no other delivery can take the
        // document before the transaction ends. Only then does anything else run (a statement sent after a lost claim could
        // lock rows its new holder is about to write, and the two transactions wait on each other).
        var renewed = await connection.ExecuteAsync(new CommandDefinition(
            documents.Renew,
            new { completion.Scope, completion.DocumentKey, completion.Owner, LeaseMilliseconds = SqlValues.Milliseconds(completion.Lease) },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (renewed == 0)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return CompletionResult.ClaimLost;
        }

        int[] affected;
        if (connection is NpgsqlConnection npgsql)
        {
            affected = await ExecuteBatchAsync(npgsql, (NpgsqlTransaction)transaction, statements, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            affected = new int[statements.Count];
            for (var i = 0; i < statements.Count; i++)
            {
                affected[i] = await connection.ExecuteAsync(new CommandDefinition(
                    statements[i].Sql, statements[i].Parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (affected[i] == 0 && statements[i].Fence != Fence.None)
                {
                    break;
                }
            }
        }

        // The fences in the order the statements ran: the first that failed decides, and nothing is kept.
        for (var i = 0; i < statements.Count; i++)
        {
            if (affected[i] > 0 || statements[i].Fence == Fence.None)
            {
                continue;
            }

            if (statements[i].Fence == Fence.Record)
            {
                // Nothing in progress under this key: another delivery completed it first, or it never began.
                var state = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                    records.State, new { completion.IdempotencyKey }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return state is null
                    ? throw new InvalidOperationException($"No idempotency record has the key '{completion.IdempotencyKey}'; call BeginAsync first.")
                    : CompletionResult.AlreadyCompleted;
            }

            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            var effect = statements[i].Effect!;
            throw new EffectAttemptSupersededException(
                $"Effect {effect.Id.Scope}/{effect.Id.Key}: attempt {effect.Attempt} is no longer the open one (another delivery settled it); this resolution was not recorded.");
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return CompletionResult.Committed;
    }

    private List<Statement> Statements(Completion completion)
    {
        var now = SqlValues.Timestamp(dialect, timeProvider.GetUtcNow());
        var statements = new List<Statement>(3 + completion.Documents.Count + completion.Effects.Count)
        {
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
        statements.Add(new(documents.Release, new { completion.Scope, completion.DocumentKey, completion.Owner }, Fence.None));
        return statements;
    }

    private static async Task<int[]> ExecuteBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<Statement> statements, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var statement in statements)
        {
            var command = new NpgsqlBatchCommand(statement.Sql);
            NpgsqlParameters.AddFrom(command.Parameters, statement.Parameters);
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        var affected = new int[statements.Count];
        for (var i = 0; i < affected.Length; i++)
        {
            affected[i] = batch.BatchCommands[i].RecordsAffected;
        }

        return affected;
    }

    private enum Fence
    {
        None,
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
