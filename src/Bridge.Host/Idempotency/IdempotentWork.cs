using Bridge.Contracts;
using Bridge.Host.Messaging;
using Bridge.Host.Storage;

namespace Bridge.Host.Idempotency;

/// <summary>The effect one command has, described for <see cref="IdempotentExecutor"/>.</summary>
public sealed class IdempotentWork
{
    public required IncomingMessage Incoming { get; init; }

    /// <summary>The message's idempotency key (already checked to be present).</summary>
    public required string IdempotencyKey { get; init; }

    public required PayloadFingerprint Fingerprint { get; init; }

    /// <summary>Namespace of the document key, e.g. <c>closing-document:1:505</c>.</summary>
    public required string Scope { get; init; }

    /// <summary>The ERP's key of the document this command touches; one delivery per document is in flight at a time.</summary>
    public required string DocumentKey { get; init; }

    /// <summary>
    /// Whether <see cref="Apply"/> may keep the claim for this message after a failure
    /// (<see cref="WorkContext.HoldClaimThroughSendAsync"/>): only then does a busy document's delivery try to take it back,
    /// so no other flow pays that round trip on its busy retries.
    /// </summary>
    public bool MayHoldThroughSend { get; init; }

    /// <summary>Performs the effect; may throw a transient exception (retried) or a permanent ActivePlatform error (rejected).</summary>
    public required Func<WorkContext, CancellationToken, Task<WorkResult>> Apply { get; init; }

    /// <summary>Builds the rejection event for this command.</summary>
    public required Func<Rejection, IResultEvent> Reject { get; init; }
}

/// <summary>What the effect found when it started, and how it records an async task before polling it.</summary>
public sealed class WorkContext(
    IdempotencyRecord record,
    DocumentState? document,
    Func<string?, CancellationToken, Task> setPendingTask,
    ClaimFence? claimFence = null,
    Func<CancellationToken, Task>? holdClaim = null,
    Func<TimeSpan, string?, CancellationToken, Task>? holdThroughSend = null)
{
    public IdempotencyRecord Record { get; } = record;

    public DocumentState? Document { get; } = document;

    /// <summary>
    /// Whether an earlier delivery of this message began it (its idempotency record was already there, not completed): that
    /// delivery may have sent the effect and lost the answer, or been killed before recording it.
    /// </summary>
    public bool BegunBefore { get; init; }

    /// <summary>
    /// This delivery's claim on the document, the fence of every effect it records before sending
    /// (<see cref="Effects.IEffectJournal.TryBeginAsync(Effects.EffectId, string, string, string?, ClaimFence?, CancellationToken)"/>):
    /// nothing is recorded, and <see cref="DocumentBusyException"/> is thrown, unless this delivery has held the claim all
    /// along, and the claim is kept until the record is committed. A delivery whose claim ran out while it was slow — another
    /// delivery may have written a newer version meanwhile — so never sends what it decided before.
    /// </summary>
    public ClaimFence? ClaimFence { get; } = claimFence;

    /// <summary>
    /// Right before a call that changes ActivePlatform and journals nothing first (the call itself is the only record an
    /// earlier delivery could have left): renews the document's claim, or throws <see cref="DocumentBusyException"/> when this
    /// delivery has not held it all along — another delivery took it while this one was stalled (a paused process, a cut from
    /// the database) and may have changed the same thing since, so what this one decided before is not sent. The renewal
    /// gives the call a full lease; a stall longer than that between here and the request leaving is not covered.
    /// </summary>
    public async Task HoldClaimAsync(CancellationToken cancellationToken)
    {
        // The claim first: a delivery that lost it stamps nothing (the stamp keeps the key's letter from being edited).
        if (holdClaim is not null)
        {
            await holdClaim(cancellationToken).ConfigureAwait(false);
        }

        await MarkUnjournaledSendAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stamps the message's record before a call that journals nothing first (storage version 17), or throws
    /// <see cref="HeldByDeadLetterException"/> when an operator's edit of a dead letter of its key holds the key: the
    /// delivery began before that letter was captured, and its call could go beside the edit. Once stamped, no edit of the
    /// key is claimed (the call's outcome cannot be told from here). Set by the executor; nothing without it.
    /// </summary>
    public Func<CancellationToken, Task>? MarkUnjournaledSend { get; init; }

    /// <summary>
    /// The stamp of <see cref="MarkUnjournaledSend"/>, for a call that journals nothing and renews no claim here (a currency
    /// rate batch writes its own intents; a payment without a number has no group to journal in): right before it is sent.
    /// </summary>
    public Task MarkUnjournaledSendAsync(CancellationToken cancellationToken) => MarkUnjournaledSend?.Invoke(cancellationToken) ?? Task.CompletedTask;

    /// <summary>
    /// The state <see cref="HoldClaimThroughSendAsync"/> wrote while such a call's outcome was not known, before it named the
    /// message (an older Bridge's); see <see cref="IsInDoubt(string?)"/>.
    /// </summary>
    public const string InDoubt = "in-doubt";

    /// <summary>
    /// The state <see cref="HoldClaimThroughSendAsync"/> writes while a call of the message with <paramref name="idempotencyKey"/>
    /// may still land: <see cref="InDoubt"/> and the message (a hash of its key, so any key fits the column). The same value
    /// is kept on the message's own record (<see cref="IdempotencyRecord.PendingAsyncTaskId"/>, unused by these messages
    /// otherwise) until the message is answered: see <see cref="OverwrittenSinceUnansweredCall"/>.
    /// </summary>
    public static string InDoubtFor(string idempotencyKey) => InDoubt + ":" + IdempotentExecutor.MessageHash(idempotencyKey);

    /// <summary>Whether <paramref name="state"/> is a call's outcome in doubt (this Bridge's form, or an older one's).</summary>
    public static bool IsInDoubt(string? state)
        => state is not null && (state == InDoubt || state.StartsWith(InDoubt + ":", StringComparison.Ordinal));

    /// <summary>
    /// Whether an earlier delivery of this message sent a call that went unanswered (it left its in-doubt mark on the
    /// message's record), and another message has written the document's state since: that call may have been carried out
    /// before the other message's, and sending it again would undo what came after it (chaos seed 1252: a revoke answered
    /// 502 and carried out, dead-lettered; the next approval approved; the revoke's replay revoked a second time). Such a
    /// message is kept for an operator, never sent again. A message whose mark is still the document's state — nobody wrote
    /// since, or only calls proven not carried out — is sent again as before.
    /// </summary>
    public bool OverwrittenSinceUnansweredCall
        => Record.PendingAsyncTaskId is { } mark && IsInDoubt(mark) && !string.Equals(mark, Document?.AppliedVersion, StringComparison.Ordinal);

    /// <summary>
    /// As <see cref="HoldClaimAsync"/>, for a call that journals nothing and whose answer, once sent, may be lost while the
    /// call is still carried out later (a gateway's 503, a timeout, a kill): the claim is renewed until the call can no
    /// longer land (<paramref name="mayLandFor"/> plus a lease, by the database's clock), and the document's state is
    /// written in doubt for this message (<see cref="InDoubtFor"/>) first, then the same mark on the message's record. Unless
    /// <see cref="NothingWasSentAsync"/> says otherwise, a failure then keeps the claim (its expiry, not its owner, ends it)
    /// and the state in doubt: the document's next message (another delivery of this one included) waits until the call can
    /// no longer land, and then does not answer from a state the call may have changed. A kill keeps both as well. Success
    /// writes the real state, as every completion does, and the completed record drops the mark.
    /// </summary>
    public async Task HoldClaimThroughSendAsync(TimeSpan mayLandFor, CancellationToken cancellationToken)
    {
        if (holdThroughSend is null)
        {
            await HoldClaimAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        await MarkUnjournaledSendAsync(cancellationToken).ConfigureAwait(false);
        var mark = InDoubtFor(Record.IdempotencyKey);
        await holdThroughSend(mayLandFor, mark, cancellationToken).ConfigureAwait(false);
        keepClaim = true;
        if (Record.PendingAsyncTaskId != mark)
        {
            // After the state: a kill between the two leaves no mark, and no call was sent yet.
            try
            {
                await setPendingTask(mark, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Nothing was sent: the state goes back and the claim is given back as for any failure before a send. Should
                // that write fail too, the claim is kept until it expires with the state in doubt, which only costs a wait.
                try
                {
                    await NothingWasSentAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception restore) when (restore is not OperationCanceledException)
                {
                }

                throw;
            }
        }
    }

    /// <summary>
    /// After <see cref="HoldClaimThroughSendAsync"/>, for a failure that proves nothing was carried out (a refusal, a 429, a
    /// call that never left): the state it had and the record's mark are written back, and a failure gives the claim back
    /// as usual. When this delivery took the claim back from an earlier delivery of its message (<see cref="TookBackHold"/>),
    /// that delivery's call may still land: the state stays in doubt and the claim kept, whatever this attempt's answer.
    /// </summary>
    public async Task NothingWasSentAsync(CancellationToken cancellationToken)
    {
        if (holdThroughSend is not null && keepClaim && !TookBackHold)
        {
            // The mark first: a kill between the two leaves the state in doubt for a message with no mark, which its next
            // delivery sends again (as before the mark existed), never the reverse.
            if (Record.PendingAsyncTaskId != InDoubtFor(Record.IdempotencyKey))
            {
                await setPendingTask(Record.PendingAsyncTaskId, cancellationToken).ConfigureAwait(false);
            }

            await holdThroughSend(TimeSpan.Zero, Document?.AppliedVersion, cancellationToken).ConfigureAwait(false);
            keepClaim = false;
        }
    }

    private bool keepClaim;

    /// <summary>
    /// Whether this delivery took the document's claim back from an earlier delivery of its message, which kept it after a
    /// call that may still land (<see cref="HoldClaimThroughSendAsync"/>): until it expires, any failure of this delivery
    /// keeps it too, and a refusal of this attempt says nothing about that call.
    /// </summary>
    public bool TookBackHold { get; init; }

    /// <summary>Whether a failure of this delivery keeps the document's claim until it expires (<see cref="HoldClaimThroughSendAsync"/>).</summary>
    public bool KeepClaimIfFailed => keepClaim || TookBackHold;

    /// <summary>Stores the async task id (or clears it) before the first poll, so a restart resumes polling instead of writing again.</summary>
    public Task SetPendingAsyncTaskAsync(string? value, CancellationToken cancellationToken) => setPendingTask(value, cancellationToken);
}

/// <summary>The effect's result: the event to publish and what to remember of the document.</summary>
/// <param name="DocumentChange">The claimed document's new applied state; null leaves it as it was (e.g. a skipped version).</param>
public sealed record WorkResult(HandlingOutcome Outcome, IResultEvent Event, string? ResourceId, DocumentChange? DocumentChange)
{
    /// <summary>
    /// Applied states of other keys the effect covers, recorded in the same transaction — e.g. each currency pair of a
    /// rate batch, under the claim of its reseller.
    /// </summary>
    public IReadOnlyList<ScopedDocumentChange> OtherChanges { get; init; } = [];

    /// <summary>Journal entries this result closes, in the same transaction as the record and the event.</summary>
    public IReadOnlyList<EffectResolution> Effects { get; init; } = [];

    /// <summary>
    /// Claims on other keys the effect took and gives back in the same transaction — e.g. a rate batch's hold on each pair
    /// it wrote, once ActivePlatform's answer shows that no write of the batch can still land.
    /// </summary>
    public IReadOnlyList<ScopedClaim> ReleasedClaims { get; init; } = [];

    /// <summary>
    /// Keeps the document's claim this long after the commit (by the database's clock) instead of giving it back: the write
    /// was answered, but an earlier attempt of it went unanswered and may still be carried out, so the document's next write
    /// must not go before that attempt can no longer land. Null gives the claim back with the commit.
    /// </summary>
    public TimeSpan? HoldDocumentFor { get; init; }
}

/// <summary>A claim <paramref name="Owner"/> holds on <paramref name="DocumentKey"/> of <paramref name="Scope"/>.</summary>
public sealed record ScopedClaim(string Scope, string DocumentKey, string Owner);

/// <summary>Closes an effect journal entry with the evidence that decided it.</summary>
public sealed record EffectResolution(Effects.EffectId Id, string Attempt, Effects.EffectState State, string? ResourceId, string? Evidence);

public sealed record ScopedDocumentChange(string Scope, string DocumentKey, DocumentChange Change);

public sealed record DocumentChange(string? AppliedVersion, string? ResourceId, bool Deleted);

public sealed record Rejection(RejectionReason Reason, string Description, IReadOnlyList<string> ValidationErrors, ActivePlatformError? ActivePlatformError)
{
    /// <summary>A message that failed validation: it never reaches ActivePlatform; every problem is named by its field.</summary>
    public static Rejection Invalid(IReadOnlyList<string> errors)
        => new(RejectionReason.InvalidMessage, "The message is invalid and was not sent to ActivePlatform: " + string.Join("; ", errors), errors, null);
}
