using System.Data.Common;
using Dapper;

namespace Bridge.Host.Storage;

/// <remarks>
/// Claim leases are set and judged by the database's clock inside the statement, never by the clock of the instance
/// asking: an instance whose clock runs ahead cannot take a claim another instance still holds.
/// </remarks>
public sealed class SqlDocumentStateStore(IBridgeDatabase database, TimeProvider timeProvider) : IDocumentStateStore
{
    private readonly DocumentStateSql sql = DocumentStateSql.For(database.Dialect);
    private readonly SqlDialect dialect = database.Dialect;

    public async Task<DocumentState?> ClaimAsync(string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ClaimAsync(connection, null, scope, documentKey, owner, lease, cancellationToken).ConfigureAwait(false);
    }

    public Task<DocumentState?> ClaimAsync(DbTransaction transaction, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return ClaimAsync(SqlIdempotencyStore.ConnectionOf(transaction), transaction, scope, documentKey, owner, lease, cancellationToken);
    }

    private async Task<DocumentState?> ClaimAsync(DbConnection connection, DbTransaction? transaction, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        var claimed = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            sql.Claim,
            new
            {
                Scope = scope,
                DocumentKey = documentKey,
                Owner = owner,
                LeaseMilliseconds = SqlValues.Milliseconds(lease),

                // Only the new row's updated_at: the lease itself is the database's clock plus the lease.
                Now = SqlValues.Timestamp(dialect, timeProvider.GetUtcNow()),
            },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return claimed?.ToState();
    }

    public async Task<bool> TryRenewAsync(DbTransaction? transaction, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        var command = new CommandDefinition(
            sql.Renew,
            new { Scope = scope, DocumentKey = documentKey, Owner = owner, LeaseMilliseconds = SqlValues.Milliseconds(lease) },
            transaction,
            cancellationToken: cancellationToken);
        if (transaction is not null)
        {
            return await SqlIdempotencyStore.ConnectionOf(transaction).ExecuteAsync(command).ConfigureAwait(false) > 0;
        }

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(command).ConfigureAwait(false) > 0;
    }

    public async Task<bool> TryHandOverAsync(string scope, string documentKey, string owner, string to, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            sql.HandOver, new { Scope = scope, DocumentKey = documentKey, Owner = owner, To = to }, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
    }

    /// <remarks>
    /// Outside a transaction not durable on its own (<see cref="IBridgeDatabase.OpenForLeasesAsync"/>): a release lost in a
    /// crash of the database leaves a claim that runs out with its lease. The claim itself and its renewals are durable: a
    /// delivery acts on its claim (some flows call ActivePlatform right after taking it), so a claim must not vanish in a
    /// crash while it does.
    /// </remarks>
    public async Task ReleaseAsync(DbTransaction? transaction, string scope, string documentKey, string owner, CancellationToken cancellationToken)
    {
        var command = new CommandDefinition(
            sql.Release,
            new { Scope = scope, DocumentKey = documentKey, Owner = owner },
            transaction,
            cancellationToken: cancellationToken);
        if (transaction is not null)
        {
            await SqlIdempotencyStore.ConnectionOf(transaction).ExecuteAsync(command).ConfigureAwait(false);
            return;
        }

        await using var connection = await database.OpenForLeasesAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(command).ConfigureAwait(false);
    }

    public async Task<DocumentState?> GetAsync(string scope, string documentKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            sql.Select, new { Scope = scope, DocumentKey = documentKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToState();
    }

    public async Task SetAppliedAsync(DbTransaction transaction, string scope, string documentKey, string? appliedVersion, string? resourceId, bool deleted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        await SqlIdempotencyStore.ConnectionOf(transaction).ExecuteAsync(new CommandDefinition(
            sql.SetApplied,
            new
            {
                Scope = scope,
                DocumentKey = documentKey,
                AppliedVersion = appliedVersion,
                ResourceId = resourceId,
                Deleted = deleted,
                Now = SqlValues.Timestamp(dialect, timeProvider.GetUtcNow()),
            },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task SetAppliedNowAsync(string scope, string documentKey, string? appliedVersion, string? resourceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await SetAppliedAsync(transaction, scope, documentKey, appliedVersion, resourceId, deleted: false, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task SetDeletedNowAsync(string scope, string documentKey, string? appliedVersion, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await SetAppliedAsync(transaction, scope, documentKey, appliedVersion, resourceId: null, deleted: true, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A document state as Dapper reads it (also read by <see cref="SqlIdempotencyStore.BeginAndClaimAsync"/>).</summary>
    internal sealed class Row
    {
        public string Scope { get; set; } = "";
        public string DocumentKey { get; set; } = "";
        public string? AppliedVersion { get; set; }
        public string? ResourceId { get; set; }
        public object Deleted { get; set; } = null!;
        public object UpdatedAt { get; set; } = null!;

        public DocumentState ToState() => new(
            Scope, DocumentKey, AppliedVersion, ResourceId, SqlValues.ReadBoolean(Deleted), SqlValues.ReadTimestamp(UpdatedAt));
    }
}
