using System.Data.Common;
using Bridge.Host.Storage;

namespace Bridge.Tests.Pipeline;

/// <summary>The idempotency store as it is, every call passed to <paramref name="inner"/>: a test overrides what it fails or holds back.</summary>
public class DelegatingIdempotencyStore(IIdempotencyStore inner) : IIdempotencyStore
{
    public virtual Task<IdempotencyBegin> BeginAsync(string idempotencyKey, string messageType, string fingerprint, string? documentKey, CancellationToken cancellationToken)
        => inner.BeginAsync(idempotencyKey, messageType, fingerprint, documentKey, cancellationToken);

    public virtual Task<BeginAndClaim> BeginAndClaimAsync(
        string idempotencyKey, string messageType, string fingerprint, string scope, string documentKey, string owner, TimeSpan lease, string? replayCopy, CancellationToken cancellationToken)
        => inner.BeginAndClaimAsync(idempotencyKey, messageType, fingerprint, scope, documentKey, owner, lease, replayCopy, cancellationToken);

    public virtual Task DeleteBegunAsync(string idempotencyKey, string fingerprint, CancellationToken cancellationToken)
        => inner.DeleteBegunAsync(idempotencyKey, fingerprint, cancellationToken);

    public virtual Task<IdempotencyRecord?> FindAsync(string idempotencyKey, CancellationToken cancellationToken) => inner.FindAsync(idempotencyKey, cancellationToken);

    public virtual Task SetPendingAsyncTaskAsync(string idempotencyKey, string? asyncTaskId, CancellationToken cancellationToken)
        => inner.SetPendingAsyncTaskAsync(idempotencyKey, asyncTaskId, cancellationToken);

    public virtual Task<bool> TryMarkUnjournaledSendAsync(string idempotencyKey, CancellationToken cancellationToken)
        => inner.TryMarkUnjournaledSendAsync(idempotencyKey, cancellationToken);

    public virtual Task<EditHold?> FindEditHoldAsync(string idempotencyKey, CancellationToken cancellationToken) => inner.FindEditHoldAsync(idempotencyKey, cancellationToken);

    public virtual Task<IReadOnlyList<IdempotencyRecord>> FindMarkedForDocumentAsync(string messageType, string documentKey, CancellationToken cancellationToken)
        => inner.FindMarkedForDocumentAsync(messageType, documentKey, cancellationToken);

    public virtual Task<bool> CompleteAsync(DbTransaction transaction, string idempotencyKey, string outcome, string? resourceId, CancellationToken cancellationToken)
        => inner.CompleteAsync(transaction, idempotencyKey, outcome, resourceId, cancellationToken);

    public virtual Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken) => inner.PurgeAsync(olderThan, cancellationToken);
}
