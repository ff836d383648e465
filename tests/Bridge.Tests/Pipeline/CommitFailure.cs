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

    /// <summary>Wraps Bridge's completion store (the transaction that completes a handled message) in the failing one.</summary>
    public void Install(IServiceCollection services)
    {
        services.AddSingleton<SqlCompletionStore>();
        services.AddSingleton<ICompletionStore>(provider => new Store(provider.GetRequiredService<SqlCompletionStore>(), this));
    }

    private bool Take(string idempotencyKey) => _matches(idempotencyKey) && Interlocked.Decrement(ref _left) >= 0;

    private sealed class Store(ICompletionStore inner, CommitFailure failure) : ICompletionStore
    {
        public Task<CompletionResult> CommitAsync(Completion completion, CancellationToken cancellationToken)
            => failure.Take(completion.IdempotencyKey)
                ? throw new DatabaseLostException($"simulated: the database went away before message {completion.IdempotencyKey} was committed")
                : inner.CommitAsync(completion, cancellationToken);
    }

    private sealed class DatabaseLostException(string message) : DbException(message);
}
