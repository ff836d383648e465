namespace Bridge.Host.Idempotency;

/// <summary>
/// A delivery of a message whose idempotency key a dead letter holds, and which is not a copy that letter's replay sent and
/// still counts: the original delivered again after its capture (its acknowledgement lost), the ERP sending it again, a copy
/// whose capture already took it back, or anything under a key whose letter an operator edited. Applied, it could go beside
/// the edit or against what the operator decided; it is never retried and is dead-lettered again, with its letter when it is
/// the same message.
/// </summary>
public sealed class HeldByDeadLetterException(string idempotencyKey, string messageType, Guid deadLetterId, bool edited)
    : Exception(edited
        ? $"Idempotency key '{idempotencyKey}' belongs to dead letter {deadLetterId:D}, which an operator edited and replayed as a new message: this delivery of the {messageType} was not applied and never will be (it would go beside the edit). Nothing to do unless the edit should not have been sent."
        : $"Idempotency key '{idempotencyKey}' belongs to dead letter {deadLetterId:D}: this delivery of the {messageType} (delivered again after its capture, or sent again) was not applied. Replay, edit or discard dead letter {deadLetterId:D}; only what an operator sends from it is applied.")
{
    public string IdempotencyKey { get; } = idempotencyKey;

    public Guid DeadLetterId { get; } = deadLetterId;
}
