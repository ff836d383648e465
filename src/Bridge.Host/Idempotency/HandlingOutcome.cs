namespace Bridge.Host.Idempotency;

/// <summary>What became of one delivery of a command.</summary>
public enum HandlingOutcome
{
    /// <summary>The effect happened; the success event is in the outbox.</summary>
    Applied,

    /// <summary>A version older than the one applied; not written; the skip event is in the outbox.</summary>
    Skipped,

    /// <summary>Refused for good (invalid, refused by ActivePlatform, idempotency conflict); the rejection event is in the outbox.</summary>
    Rejected,

    /// <summary>This idempotency key was already handled with this payload: no second effect, no second event.</summary>
    Duplicate,
}
