using Bridge.Host.DeadLetters.Capture;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Idempotency;

namespace Bridge.Host.DeadLetters.Retention;

/// <summary>
/// Gives letters captured before storage version 16 the idempotency key of their message, read from their stored message
/// id, body and headers as a capture reads it today: until then they hold nothing, and the ERP sending such a message again
/// would be applied beside its edit. Run by <see cref="DeadLetterMaintenance"/> at start and before every purge; a letter
/// whose key cannot be read (no message id, a body that is not JSON) is read again each time, and there are few.
/// </summary>
public sealed partial class DeadLetterKeyBackfill(IDeadLetterStore store, ILogger<DeadLetterKeyBackfill> logger)
{
    /// <summary>Returns how many letters were given their key.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var given = 0;
        var after = Guid.Empty;
        while (true)
        {
            var ids = await store.KeylessAsync(after, cancellationToken);
            foreach (var id in ids)
            {
                if (await store.GetAsync(id, cancellationToken) is { Letter: var letter }
                    && DeadLetterCapture.IdempotencyKeyOf(letter) is { } key
                    && IdempotencyKeys.IsStorable(key)
                    && await store.SetIdempotencyKeyAsync(id, key, cancellationToken))
                {
                    given++;
                }
            }

            if (ids.Count < 100)
            {
                break;
            }

            after = ids[^1];
        }

        if (given > 0)
        {
            LogGiven(logger, given);
        }

        return given;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} dead letters from before storage version 16 now hold their message's idempotency key")]
    private static partial void LogGiven(ILogger logger, int count);
}
