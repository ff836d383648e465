using System.Data.Common;
using Bridge.Host.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// The database lost at the worst moment: ActivePlatform has answered, and the transaction that completes the message's
/// record and writes its event fails — as if PostgreSQL stopped, or the instance was killed, between the two. The next
/// delivery then finds the message not completed. Fails the commit of the first <paramref name="times"/> messages
/// <paramref name="matches"/> selects by idempotency key.
/// </summary>
public sealed class CommitFailure(Func<string, bool> matches, int times = 1)
{
    private readonly Func<string, bool> _matches = matches;

    private readonly int _times = times;
    private int _left = times;

    /// <summary>How many commits were failed so far.</summary>
    public int Failed => _times - Math.Max(0, Volatile.Read(ref _left));

    /// <summary>Wraps Bridge's idempotency store in the failing one.</summary>
    public void Install(IServiceCollection services)
    {
        services.AddSingleton<SqlIdempotencyStore>();
        services.AddSingleton<IIdempotencyStore>(provider => new Store(provider.GetRequiredService<SqlIdempotencyStore>(), this));
    }

    private bool Take(string idempotencyKey) => _matches(idempotencyKey) && Interlocked.Decrement(ref _left) >= 0;

    private sealed class Store(IIdempotencyStore inner, CommitFailure failure) : IIdempotencyStore
    {
        public Task<IdempotencyBegin> BeginAsync(string idempotencyKey, string messageType, string fingerprint, string? documentKey, CancellationToken cancellationToken)
            => inner.BeginAsync(idempotencyKey, messageType, fingerprint, documentKey, cancellationToken);

        public Task<BeginAndClaim> BeginAndClaimAsync(
            string idempotencyKey, string messageType, string fingerprint, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
            => inner.BeginAndClaimAsync(idempotencyKey, messageType, fingerprint, scope, documentKey, owner, lease, cancellationToken);

        public Task<IdempotencyRecord?> FindAsync(string idempotencyKey, CancellationToken cancellationToken) => inner.FindAsync(idempotencyKey, cancellationToken);

        public Task SetPendingAsyncTaskAsync(string idempotencyKey, string? asyncTaskId, CancellationToken cancellationToken)
            => inner.SetPendingAsyncTaskAsync(idempotencyKey, asyncTaskId, cancellationToken);

        public Task<IReadOnlyList<IdempotencyRecord>> FindMarkedForDocumentAsync(string messageType, string documentKey, CancellationToken cancellationToken)
            => inner.FindMarkedForDocumentAsync(messageType, documentKey, cancellationToken);

        public Task<bool> CompleteAsync(DbTransaction transaction, string idempotencyKey, string outcome, string? resourceId, CancellationToken cancellationToken)
            => failure.Take(idempotencyKey)
                ? throw new DatabaseLostException($"simulated: the database went away before message {idempotencyKey} was committed")
                : inner.CompleteAsync(transaction, idempotencyKey, outcome, resourceId, cancellationToken);

        public Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken) => inner.PurgeAsync(olderThan, cancellationToken);
    }

    private sealed class DatabaseLostException(string message) : DbException(message);
}
