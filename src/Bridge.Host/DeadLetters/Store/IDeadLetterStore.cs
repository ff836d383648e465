using System.Data.Common;

namespace Bridge.Host.DeadLetters.Store;

/// <summary>
/// Dead letters and their audit trail. Status changes are conditional updates, so of two operators (or two replays)
/// acting on one dead letter at once exactly one succeeds; a successful change and its audit entry commit together.
/// </summary>
public interface IDeadLetterStore
{
    /// <summary>
    /// Stores the failed message inside the caller's transaction (the one that also writes <c>ErpMessageDeadLettered</c> to
    /// the outbox), with a <c>Captured</c> audit entry. When the queue already holds a dead letter for the same message — the
    /// same message id and the same body bytes — that one counts the failure and becomes Pending again (<c>FailedAgain</c>).
    /// Another body under the same message id (e.g. with its own <c>idempotencyKey</c>) is a dead letter of its own. A copy a
    /// replay of that letter sent (<see cref="NewDeadLetter.ReplayOf"/>) is one fewer that may be in the queue: with none
    /// left, the letter may be edited. An edit's marker stays whatever the original does.
    /// </summary>
    Task<DeadLetterCaptured> CaptureAsync(DbTransaction transaction, NewDeadLetter letter, CancellationToken cancellationToken);

    /// <summary>One page (1-based) of the dead letters matching <paramref name="filter"/>, newest failure first.</summary>
    Task<DeadLetterPage> QueryAsync(DeadLetterFilter filter, int page, int pageSize, CancellationToken cancellationToken);

    /// <summary>The matching dead letters counted by failure cause, largest group first.</summary>
    Task<IReadOnlyList<DeadLetterGroup>> GroupsAsync(DeadLetterFilter filter, CancellationToken cancellationToken);

    /// <summary>One dead letter with its audit trail, oldest entry first; null when there is none with this id.</summary>
    Task<DeadLetterDetails?> GetAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>
    /// The replay guard: moves a Pending dead letter (or one whose replay claim expired, after releasing it as
    /// <see cref="ReleaseExpiredReplaysAsync"/> does) to Replaying for <paramref name="owner"/>, leased for
    /// <paramref name="lease"/> from the database's clock. Concurrent claimers: exactly one gets true. Never a letter an edit
    /// was begun for (<see cref="DeadLetter.EditMessageId"/>); the claim itself records that a copy of the original may be in
    /// the queue from now on (<see cref="DeadLetter.OriginalSentAt"/>), whatever becomes of the send, so no edit is sent
    /// until that copy is seen failing again.
    /// </summary>
    /// <remarks>
    /// <paramref name="copyId"/> (a GUID): the copy of the original this replay will send, counted with the claim; it travels
    /// in the <c>Bridge-Replay-Copy</c> header, and only its own capture (once) or a send that certainly reached nothing takes it away.
    /// </remarks>
    Task<bool> TryClaimReplayAsync(Guid id, string owner, TimeSpan lease, string copyId, CancellationToken cancellationToken);

    /// <summary>
    /// The edit's claim: as <see cref="TryClaimReplayAsync"/>, never while a replayed copy of the original may be in the
    /// queue, nor when another edit was begun (another <see cref="DeadLetter.EditMessageId"/>). It marks the letter with
    /// <paramref name="editMessageId"/> and records <paramref name="sending"/> (<c>EditAndReplay</c> / <c>Sending</c>) in the
    /// same transaction: from then on only this edit is ever claimed, never the original, whatever becomes of the send.
    /// </summary>
    Task<bool> TryClaimEditAsync(Guid id, string owner, TimeSpan lease, string editMessageId, DeadLetterAction sending, CancellationToken cancellationToken);

    /// <summary>
    /// A replay that crashed between sending and recording leaves its dead letter Replaying: once its claim has expired by
    /// the database's clock, this makes it Pending again (replayable, discardable, purgeable) with a
    /// <c>ReplayLeaseExpired</c> audit entry saying the message (the original, or the edit) may or may not have been sent.
    /// Sending the same message again is safe: its idempotency record answers a second delivery as a duplicate; the claims
    /// keep the other one from being sent. Only <paramref name="id"/> when given, else up to 500 at a time; returns the ids
    /// released.
    /// </summary>
    Task<IReadOnlyList<Guid>> ReleaseExpiredReplaysAsync(Guid? id, CancellationToken cancellationToken);

    /// <summary>Replaying → Replayed, if <paramref name="owner"/> still holds the claim; audited when it happens.</summary>
    Task<bool> CompleteReplayAsync(Guid id, string owner, DeadLetterAction audit, CancellationToken cancellationToken);

    /// <summary>Replaying → Pending (the replay could not send it), if <paramref name="owner"/> still holds the claim.</summary>
    /// <remarks>
    /// <paramref name="notSentCopy"/>: the copy id of a replay's send that certainly never reached the broker
    /// (<see cref="Messaging.MessageNotSentException"/>); that copy is taken back, so the letter is not held from an edit for a
    /// copy that does not exist.
    /// </remarks>
    Task<bool> ReleaseReplayAsync(Guid id, string owner, DeadLetterAction audit, CancellationToken cancellationToken, string? notSentCopy = null);

    /// <summary>Replaying → Discarded with <paramref name="reason"/>: the original of an edited message, archived.</summary>
    Task<bool> CompleteEditAsync(Guid id, string owner, string reason, DeadLetterAction audit, CancellationToken cancellationToken);

    /// <summary>Pending or Replayed (or Replaying with an expired claim, released first) → Discarded with <paramref name="reason"/>.</summary>
    Task<bool> DiscardAsync(Guid id, string reason, DeadLetterAction audit, CancellationToken cancellationToken);

    /// <summary>
    /// Discarded → Pending, unless an edit of it was certainly sent (it archived the letter, or its confirm came after a
    /// capture). Its markers stay: restored after an edit's failed send, only that edit may be sent.
    /// </summary>
    Task<bool> RestoreAsync(Guid id, DeadLetterAction audit, CancellationToken cancellationToken);

    /// <summary>Records an action that changed nothing (e.g. refused), on an existing dead letter.</summary>
    Task AuditAsync(Guid id, DeadLetterAction audit, CancellationToken cancellationToken);

    /// <summary>Records <paramref name="audit"/> on a dead letter inside the caller's transaction (e.g. the one that captured it).</summary>
    Task AuditAsync(DbTransaction transaction, Guid id, DeadLetterAction audit, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes dead letters (and their audit) whose last failure is before <paramref name="olderThan"/>, except ones a live
    /// replay holds (a Replaying one whose claim expired by the database's clock is deleted like any other), ones an edit was
    /// begun for and not certainly sent, and ones a replay sent since <paramref name="olderThan"/>: deleted, the original
    /// failing again would be a fresh letter, free to be replayed beside the edit or edited beside a copy still queued.
    /// </summary>
    Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken);

    /// <summary>Up to 100 ids of dead letters that hold no idempotency key, after <paramref name="after"/> in the database's id order.</summary>
    Task<IReadOnlyList<Guid>> KeylessAsync(Guid after, CancellationToken cancellationToken);

    /// <summary>Gives a letter that holds no key its message's key; false when it holds one already (or is gone).</summary>
    Task<bool> SetIdempotencyKeyAsync(Guid id, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>What of letter <paramref name="id"/>'s key decides its claims: whether a delivery of it was answered, and the other letters of the key that count a copy or were edited.</summary>
    Task<KeyHolders> KeyHoldersAsync(Guid id, CancellationToken cancellationToken);

    Task<IReadOnlyDictionary<DeadLetterStatus, long>> CountByStatusAsync(CancellationToken cancellationToken);
}
