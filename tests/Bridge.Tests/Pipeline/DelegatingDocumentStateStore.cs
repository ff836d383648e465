using System.Data.Common;
using Bridge.Host.Storage;

namespace Bridge.Tests.Pipeline;

/// <summary>An <see cref="IDocumentStateStore"/> that passes everything to <paramref name="inner"/>; a test overrides the step it disturbs.</summary>
public abstract class DelegatingDocumentStateStore(IDocumentStateStore inner) : IDocumentStateStore
{
    public virtual Task<bool> TryHandOverAsync(string scope, string documentKey, string owner, string to, CancellationToken cancellationToken)
        => inner.TryHandOverAsync(scope, documentKey, owner, to, cancellationToken);

    public virtual Task<DocumentState?> ClaimAsync(string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
        => inner.ClaimAsync(scope, documentKey, owner, lease, cancellationToken);

    public virtual Task<DocumentState?> ClaimAsync(DbTransaction transaction, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
        => inner.ClaimAsync(transaction, scope, documentKey, owner, lease, cancellationToken);

    public virtual Task<bool> TryRenewAsync(DbTransaction? transaction, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
        => inner.TryRenewAsync(transaction, scope, documentKey, owner, lease, cancellationToken);

    public virtual Task ReleaseAsync(DbTransaction? transaction, string scope, string documentKey, string owner, CancellationToken cancellationToken)
        => inner.ReleaseAsync(transaction, scope, documentKey, owner, cancellationToken);

    public virtual Task<DocumentState?> GetAsync(string scope, string documentKey, CancellationToken cancellationToken)
        => inner.GetAsync(scope, documentKey, cancellationToken);

    public virtual Task SetAppliedNowAsync(string scope, string documentKey, string? appliedVersion, string? resourceId, CancellationToken cancellationToken)
        => inner.SetAppliedNowAsync(scope, documentKey, appliedVersion, resourceId, cancellationToken);

    public virtual Task SetDeletedNowAsync(string scope, string documentKey, string? appliedVersion, CancellationToken cancellationToken)
        => inner.SetDeletedNowAsync(scope, documentKey, appliedVersion, cancellationToken);

    public virtual Task SetAppliedAsync(DbTransaction transaction, string scope, string documentKey, string? appliedVersion, string? resourceId, bool deleted, CancellationToken cancellationToken)
        => inner.SetAppliedAsync(transaction, scope, documentKey, appliedVersion, resourceId, deleted, cancellationToken);
}
