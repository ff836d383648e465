using Bridge.Contracts;
using Bridge.Host.Outbox;
using Bridge.Host.Storage;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Idempotency;

/// <summary>
/// Gives a command its effect exactly once under at-least-once delivery:
/// <list type="number">
/// <item>an idempotency record per message (key + payload fingerprint): the same key with the same payload has no second
/// effect, the same key with another payload is an idempotency conflict and is never applied;</item>
/// <item>a per-document claim that holds across instances, so two deliveries for one document are never in flight at once;</item>
/// <item>one transaction that completes the record, records the document's applied version and writes the result event to
/// the outbox.</item>
/// </list>
/// Transient failures propagate (the message is retried); permanent ActivePlatform errors become a rejection event.
/// </summary>
public sealed partial class IdempotentExecutor(
    IBridgeDatabase database,
    IIdempotencyStore records,
    IDocumentStateStore documents,
    ICompletionStore completions,
    ResultEvents resultEvents,
    OutboxSignal outboxSignal,
    IOptions<IdempotencyOptions> options,
    TimeProvider clock,
    Messaging.MessageMetrics metrics,
    ILogger<IdempotentExecutor> logger)
{
    public async Task<HandlingOutcome> ExecuteAsync(IdempotentWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var outcome = await ExecuteOnceAsync(work, cancellationToken);
        work.Incoming.Handling?.Record(outcome, work.DocumentKey);
        return outcome;
    }

    private async Task<HandlingOutcome> ExecuteOnceAsync(IdempotentWork work, CancellationToken cancellationToken)
    {
        var owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
        var lease = options.Value.DocumentClaimLease;

        // One round trip: the record is begun, the document claimed (reading it), and the record read again after the claim —
        // a concurrent delivery of the same message may have completed it while this one waited for the claim.
        BeginAndClaim begun;
        try
        {
            begun = await records.BeginAndClaimAsync(
                work.IdempotencyKey, work.Incoming.MessageType, work.Fingerprint, work.Scope, work.DocumentKey, owner, lease, work.Incoming.ReplayCopy, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The batch may have failed after its claim was taken (a later statement, or the answer lost on the way back):
            // the owner is this attempt's alone, so giving it back can release nothing of anyone else's, and a retry need
            // not wait out a lease. If the database cannot be reached for that either, the lease runs out as after a crash.
            await TryReleaseAsync(work, owner);
            throw;
        }

        var record = begun.Record;
        if (!begun.IsNew
            && (!PayloadFingerprint.Matches(record.Fingerprint, work.Fingerprint)
                || !string.Equals(record.MessageType, work.Incoming.MessageType, StringComparison.Ordinal)))
        {
            await ReleaseUnusedClaimAsync(begun.Document, work, owner);
            LogConflict(logger, work.IdempotencyKey, work.Incoming.MessageType);
            var conflict = new Rejection(
                RejectionReason.IdempotencyConflict,
                $"Idempotency key '{work.IdempotencyKey}' was already used by a {record.MessageType} with a different payload; this message was not applied.",
                [],
                null);
            return await AnswerRefusalOnceAsync(work.IdempotencyKey, work.Fingerprint, work.DocumentKey, work.Reject(conflict), work.Incoming, cancellationToken)
                ? HandlingOutcome.Rejected
                : HandlingOutcome.Duplicate;
        }

        if (record.State == IdempotencyState.Completed)
        {
            await ReleaseUnusedClaimAsync(begun.Document, work, owner);
            LogDuplicate(logger, work.IdempotencyKey, work.Incoming.MessageType);
            return HandlingOutcome.Duplicate;
        }

        // A dead letter holds the key: an operator owns the message now, and only what it sends from the letter is applied.
        if (HeldBy(begun.HoldingLetters, work.Incoming) is { } holding)
        {
            if (begun.IsNew && begun.Document is not null)
            {
                // Begun by this held delivery alone, and while it holds the document no other delivery of the key works on it:
                // left, its payload would decide the key for what an operator sends later (an idempotency conflict).
                try
                {
                    await records.DeleteBegunAsync(work.IdempotencyKey, work.Fingerprint, cancellationToken);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // Left as begun: the delivery is held all the same, and its claim is still given back.
                }
            }

            await ReleaseUnusedClaimAsync(begun.Document, work, owner);
            LogHeld(logger, work.Incoming.MessageType, work.IdempotencyKey, holding.Id);
            throw new HeldByDeadLetterException(work.IdempotencyKey, work.Incoming.MessageType, holding.Id, holding.Edited);
        }

        var document = begun.Document;
        var tookBackHold = false;
        if (document is null && work.MayHoldThroughSend && await documents.TryHandOverAsync(work.Scope, work.DocumentKey, MessageHoldOwner(work.IdempotencyKey), owner, cancellationToken))
        {
            // An earlier delivery of this very message kept the claim after a call that may still land
            // (WorkContext.HoldClaimThroughSendAsync): the claim is this message's to take back, and its expiry stays.
            tookBackHold = true;
            document = await documents.GetAsync(work.Scope, work.DocumentKey, cancellationToken);
        }

        if (document is null)
        {
            metrics.ClaimBusy(work.Incoming.MessageType);
            throw new DocumentBusyException(work.Scope, work.DocumentKey);
        }

        using var claimLost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopHeartbeat = new CancellationTokenSource();
        using var finishing = new CancellationTokenSource();
        var heartbeat = KeepClaimAsync(work, owner, lease, claimLost, finishing.Token, stopHeartbeat.Token);
        var released = false;
        WorkContext? context = null;
        try
        {
            var fence = new ClaimFence(work.Scope, work.DocumentKey, owner, lease, () => LogClaimLost(logger, work.DocumentKey, work.IdempotencyKey));
            context = new WorkContext(
                record,
                document,
                (task, ct) => records.SetPendingAsyncTaskAsync(work.IdempotencyKey, task, ct),
                fence,
                async ct =>
                {
                    if (!await documents.TryRenewAsync(null, work.Scope, work.DocumentKey, owner, lease, ct))
                    {
                        throw fence.Lost();
                    }
                },
                async (mayLandFor, state, ct) =>
                {
                    // Renewed first (the claim's expiry never moves earlier), then the state: written only while held.
                    if (!await documents.TryRenewAsync(null, work.Scope, work.DocumentKey, owner, mayLandFor + lease, ct))
                    {
                        throw fence.Lost();
                    }

                    await documents.SetAppliedNowAsync(work.Scope, work.DocumentKey, state, document.ResourceId, ct);
                })
            {
                BegunBefore = !begun.IsNew,
                TookBackHold = tookBackHold,
                MarkUnjournaledSend = async ct =>
                {
                    if (!await records.TryMarkUnjournaledSendAsync(work.IdempotencyKey, ct))
                    {
                        // No hold and no record: nothing can be stamped, so nothing is sent (the record was begun above).
                        var hold = await records.FindEditHoldAsync(work.IdempotencyKey, ct)
                            ?? throw new InvalidOperationException($"The idempotency record of {work.IdempotencyKey} is gone; nothing was sent.");
                        LogHeld(logger, work.Incoming.MessageType, work.IdempotencyKey, hold.LetterId);
                        throw new HeldByDeadLetterException(work.IdempotencyKey, work.Incoming.MessageType, hold.LetterId, edited: true);
                    }
                },
            };

            WorkResult result;
            try
            {
                // Sends the work records give their stamp to the write that follows (the HTTP client's send deadline).
                using (Bridge.ActivePlatform.SendDeadline.OpenScope())
                {
                    result = await work.Apply(context, claimLost.Token);
                }
            }
            catch (Exception ex) when (PermanentFailures.TryClassify(ex, out var rejection))
            {
                LogRejected(logger, work.IdempotencyKey, work.Incoming.MessageType, rejection.Description);
                result = new WorkResult(HandlingOutcome.Rejected, work.Reject(rejection), null, null);
            }
            catch (OperationCanceledException) when (claimLost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new DocumentBusyException(work.Scope, work.DocumentKey);
            }

            // Fencing: commit only while this delivery has held the document all along; the commit also releases the claim.
            // The background renewal goes on until then (a slow commit must not let the lease run out), and a renewal that
            // finds the claim released by the commit is no loss.
            finishing.Cancel();
            released = await CommitAsync(work, result, owner, lease, cancellationToken);
            return released ? result.Outcome : HandlingOutcome.Duplicate;
        }
        finally
        {
            await stopHeartbeat.CancelAsync();
            await heartbeat;
            if (!released && context is { KeepClaimIfFailed: true })
            {
                // A call that may still land keeps the claim until it can no longer land (WorkContext.HoldClaimThroughSendAsync),
                // held for this message: its next delivery or retry takes it back, every other message waits.
                await documents.TryHandOverAsync(work.Scope, work.DocumentKey, owner, MessageHoldOwner(work.IdempotencyKey), CancellationToken.None);
            }
            else if (!released)
            {
                await documents.ReleaseAsync(null, work.Scope, work.DocumentKey, owner, CancellationToken.None);
            }
        }
    }

    /// <summary>Who holds a document for a message whose call may still land: its hash, so any key fits the column.</summary>
    public static string MessageHoldOwner(string idempotencyKey) => "hold-msg:" + MessageHash(idempotencyKey);

    /// <summary>A message named by a hash of its key (40 hex digits), so any key fits a column of 100.</summary>
    public static string MessageHash(string idempotencyKey)
        => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(idempotencyKey)))[..40];

    private async Task TryReleaseAsync(IdempotentWork work, string owner)
    {
        try
        {
            await documents.ReleaseAsync(null, work.Scope, work.DocumentKey, owner, CancellationToken.None);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException or IOException)
        {
            LogReleaseFailed(logger, work.DocumentKey, ex.GetType().Name);
        }
    }

    /// <summary>
    /// The dead letter that holds this delivery back, or null when it may be applied: no letter holds its key, or it is a copy
    /// a replay of one sent and the letter still counts (no capture took it back). Once an edit of any letter of the key was
    /// begun, nothing under the key is applied: the edit replaced the message.
    /// </summary>
    public static HoldingLetter? HeldBy(IReadOnlyList<HoldingLetter> letters, Messaging.IncomingMessage incoming)
    {
        if (letters.Count == 0)
        {
            return null;
        }

        if (letters.FirstOrDefault(letter => letter.Edited) is { } edited)
        {
            return edited;
        }

        var own = incoming.ReplayOf is { } of ? letters.FirstOrDefault(letter => letter.Id == of) : null;
        return own is { CountsCopy: true } && incoming.ReplayCopy is not null ? null : own ?? letters[0];
    }

    /// <summary>A claim taken with the record but not worked under (a duplicate, a conflict, a held delivery) is given back at once.</summary>
    private async Task ReleaseUnusedClaimAsync(DocumentState? claimed, IdempotentWork work, string owner)
    {
        if (claimed is not null)
        {
            await documents.ReleaseAsync(null, work.Scope, work.DocumentKey, owner, CancellationToken.None);
        }
    }

    /// <summary>
    /// Renews the claim every third of its lease while the work runs (ActivePlatform calls and async polling can outlast
    /// one lease). If the claim is lost — taken over after a stall — the work is cancelled rather than racing the new holder.
    /// </summary>
    private async Task KeepClaimAsync(IdempotentWork work, string owner, TimeSpan lease, CancellationTokenSource claimLost, CancellationToken finishing, CancellationToken stop)
    {
        var lastRenewed = clock.GetUtcNow();
        using var timer = new PeriodicTimer(lease / 3, clock);

        // The work's end disposes the timer, which ends the wait with false: a wait cancelled by the token would throw (and
        // capture a stack trace) once for every message handled.
        using var stopping = stop.Register(static state => ((PeriodicTimer)state!).Dispose(), timer);
        try
        {
            while (await timer.WaitForNextTickAsync())
            {
                try
                {
                    // Renewed only while still held: a claim another delivery took (and perhaps released) meanwhile is lost.
                    if (!await documents.TryRenewAsync(null, work.Scope, work.DocumentKey, owner, lease, stop))
                    {
                        if (finishing.IsCancellationRequested)
                        {
                            // The completing transaction released it (or fenced itself): nothing is lost.
                            return;
                        }

                        LogClaimLost(logger, work.DocumentKey, work.IdempotencyKey);
                        await claimLost.CancelAsync();
                        return;
                    }

                    lastRenewed = clock.GetUtcNow();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The database is unreachable: the claim still holds until its lease runs out.
                    if (clock.GetUtcNow() - lastRenewed > lease * 2 / 3)
                    {
                        LogClaimLost(logger, work.DocumentKey, work.IdempotencyKey);
                        await claimLost.CancelAsync();
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The work ended.
        }
    }

    /// <summary>
    /// Answers a message that failed validation. When it has a usable idempotency key the answer is recorded under it, so a
    /// redelivery of the same invalid message is not answered twice; without one the rejection is simply written.
    /// </summary>
    public async Task RejectInvalidAsync(IResultEvent rejection, Messaging.IncomingMessage incoming, object? payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        ArgumentNullException.ThrowIfNull(incoming);
        await RejectInvalidOnceAsync(rejection, incoming, payload, cancellationToken);
        incoming.Handling?.Record(HandlingOutcome.Rejected, rejection.Key);
    }

    private async Task RejectInvalidOnceAsync(IResultEvent rejection, Messaging.IncomingMessage incoming, object? payload, CancellationToken cancellationToken)
    {
        if (incoming.IdempotencyKey is not { } key || !IdempotencyKeys.IsStorable(key))
        {
            await PublishUntrackedAsync(rejection, incoming, cancellationToken);
            return;
        }

        var fingerprint = PayloadFingerprint.Of(payload);
        var begin = await records.BeginAsync(key, incoming.MessageType, fingerprint, null, cancellationToken);
        var same = PayloadFingerprint.Matches(begin.Record.Fingerprint, fingerprint)
            && string.Equals(begin.Record.MessageType, incoming.MessageType, StringComparison.Ordinal);
        if (!same)
        {
            // The key belongs to another payload: this one is invalid all the same, and is answered without touching the
            // key's record — once, under the record of this payload's refusal.
            await AnswerRefusalOnceAsync(key, fingerprint, null, rejection, incoming, cancellationToken);
            return;
        }

        if (begin.Record.State == IdempotencyState.Completed)
        {
            LogDuplicate(logger, key, incoming.MessageType);
            return;
        }

        await CompleteWithAnswerAsync(key, key, rejection, incoming, cancellationToken);
    }

    /// <summary>
    /// Answers a payload refused because its idempotency key belongs to another payload, exactly once across redeliveries
    /// and instances: the refusal is recorded under a key derived from (key, message type, fingerprint) — never the key's
    /// own record, which stays the winner's — in the transaction that writes the answer. A redelivery of the same losing
    /// payload finds that record completed and answers nothing new; of two instances refusing it at once, one commits.
    /// False when it had already been answered.
    /// </summary>
    private async Task<bool> AnswerRefusalOnceAsync(string key, PayloadFingerprint fingerprint, string? documentKey, IResultEvent refusal, Messaging.IncomingMessage incoming, CancellationToken cancellationToken)
    {
        var refusalKey = IdempotencyKeys.ForRefusal(key, incoming.MessageType, fingerprint);
        var begin = await records.BeginAsync(refusalKey, incoming.MessageType, fingerprint, documentKey, cancellationToken);
        if (begin.Record.State == IdempotencyState.Completed)
        {
            LogDuplicate(logger, key, incoming.MessageType);
            return false;
        }

        return await CompleteWithAnswerAsync(refusalKey, key, refusal, incoming, cancellationToken);
    }

    /// <summary>
    /// Completes the in-progress record <paramref name="recordKey"/> as rejected and writes <paramref name="answer"/> to the
    /// outbox in one transaction; false (nothing written) when another delivery completed it first.
    /// </summary>
    private async Task<bool> CompleteWithAnswerAsync(string recordKey, string key, IResultEvent answer, Messaging.IncomingMessage incoming, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await records.CompleteAsync(transaction, recordKey, HandlingOutcome.Rejected.ToString(), null, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            LogDuplicate(logger, key, incoming.MessageType);
            return false;
        }

        await resultEvents.EnqueueAsync(transaction, answer, incoming, cancellationToken, sourceKey: recordKey);
        await transaction.CommitAsync(cancellationToken);
        outboxSignal.Notify();
        return true;
    }

    private async Task PublishUntrackedAsync(IResultEvent rejection, Messaging.IncomingMessage incoming, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await resultEvents.EnqueueAsync(transaction, rejection, incoming, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        outboxSignal.Notify();
    }

    /// <summary>
    /// Completes the record, records the document and writes the event in one transaction, fenced by the document's claim;
    /// false when another delivery completed it first.
    /// </summary>
    private async Task<bool> CommitAsync(IdempotentWork work, WorkResult result, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        ScopedDocumentChange[] documentsApplied = result.DocumentChange is { } change
            ? [new ScopedDocumentChange(work.Scope, work.DocumentKey, change), .. result.OtherChanges]
            : [.. result.OtherChanges];
        var completion = new Completion(
            work.Scope,
            work.DocumentKey,
            owner,
            lease,
            work.IdempotencyKey,
            result.Outcome.ToString(),
            result.ResourceId,
            documentsApplied,
            result.Effects,
            resultEvents.ToOutboxMessage(result.Event, work.Incoming))
        {
            Releases = result.ReleasedClaims,
            HoldFor = result.HoldDocumentFor,
        };
        switch (await completions.CommitAsync(completion, cancellationToken))
        {
            case CompletionResult.ClaimLost:
                LogClaimLost(logger, work.DocumentKey, work.IdempotencyKey);
                throw new DocumentBusyException(work.Scope, work.DocumentKey);

            case CompletionResult.AlreadyCompleted:
                LogDuplicate(logger, work.IdempotencyKey, work.Incoming.MessageType);
                return false;

            default:
                outboxSignal.Notify();
                return true;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idempotency conflict: key {IdempotencyKey} reused by a different {MessageType}; not applied")]
    private static partial void LogConflict(ILogger logger, string idempotencyKey, string messageType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{MessageType} {IdempotencyKey} is held by dead letter {DeadLetterId}: not applied, dead-lettered again")]
    private static partial void LogHeld(ILogger logger, string messageType, string idempotencyKey, Guid deadLetterId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Duplicate {MessageType} {IdempotencyKey}: already handled, no second effect")]
    private static partial void LogDuplicate(ILogger logger, string idempotencyKey, string messageType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the claim on document {DocumentKey} while handling {IdempotencyKey}; the work is cancelled and retried")]
    private static partial void LogClaimLost(ILogger logger, string documentKey, string idempotencyKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not give back the claim on document {DocumentKey} after its begin failed ({Failure}); it runs out with its lease")]
    private static partial void LogReleaseFailed(ILogger logger, string documentKey, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{MessageType} {IdempotencyKey} rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, string idempotencyKey, string messageType, string reason);
}
