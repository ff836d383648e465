using Bridge.Host.Effects;
using Bridge.Host.Idempotency;

namespace Bridge.Tests.Pipeline;

/// <summary>The journal as it is, every call passed to <paramref name="inner"/>: a test overrides what it watches or holds back.</summary>
public class DelegatingEffectJournal(IEffectJournal inner) : IEffectJournal
{
    public virtual Task<EffectEntry?> FindAsync(EffectId id, CancellationToken cancellationToken) => inner.FindAsync(id, cancellationToken);

    public virtual Task<EffectEntry?> FindOpenAsync(string scope, string group, CancellationToken cancellationToken) => inner.FindOpenAsync(scope, group, cancellationToken);

    public virtual Task<(EffectEntry? Open, EffectEntry? Own)> FindOpenAndOwnAsync(string scope, string group, EffectId own, CancellationToken cancellationToken)
        => inner.FindOpenAndOwnAsync(scope, group, own, cancellationToken);

    public Task<string?> TryBeginAsync(EffectId id, string ownerKey, string fingerprint, string? evidence, CancellationToken cancellationToken)
        => TryBeginAsync(id, ownerKey, fingerprint, evidence, null, cancellationToken);

    public virtual Task<string?> TryBeginAsync(EffectId id, string ownerKey, string fingerprint, string? evidence, ClaimFence? claim, CancellationToken cancellationToken)
        => inner.TryBeginAsync(id, ownerKey, fingerprint, evidence, claim, cancellationToken);

    public Task<bool> TryStampSendAsync(EffectId id, string attempt, CancellationToken cancellationToken) => inner.TryStampSendAsync(id, attempt, cancellationToken);

    public Task<bool> TryAdoptAsync(EffectId id, string ownerKey, string? asyncTaskId, DateTimeOffset sentAt, string? evidence, CancellationToken cancellationToken)
        => inner.TryAdoptAsync(id, ownerKey, asyncTaskId, sentAt, evidence, cancellationToken);

    public Task SetAsyncTaskAsync(EffectId id, string attempt, string asyncTaskId, CancellationToken cancellationToken) => inner.SetAsyncTaskAsync(id, attempt, asyncTaskId, cancellationToken);

    public Task<bool> IsOwnedByAnotherAsync(EffectId except, string resourceId, CancellationToken cancellationToken) => inner.IsOwnedByAnotherAsync(except, resourceId, cancellationToken);

    public Task ResolveAsync(EffectId id, string attempt, EffectState state, string? resourceId, string? evidence, CancellationToken cancellationToken)
        => inner.ResolveAsync(id, attempt, state, resourceId, evidence, cancellationToken);

    public Task<bool> TryResolveUnlandedAsync(EffectId id, string attempt, EffectState state, string? resourceId, string? evidence, TimeSpan window, CancellationToken cancellationToken)
        => inner.TryResolveUnlandedAsync(id, attempt, state, resourceId, evidence, window, cancellationToken);

    public Task ResolveAsync(System.Data.Common.DbTransaction transaction, EffectId id, string attempt, EffectState state, string? resourceId, string? evidence, CancellationToken cancellationToken)
        => inner.ResolveAsync(transaction, id, attempt, state, resourceId, evidence, cancellationToken);
}
