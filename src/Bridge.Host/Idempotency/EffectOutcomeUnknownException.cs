namespace Bridge.Host.Idempotency;

/// <summary>
/// A call with a money effect was sent, its answer was lost, and ActivePlatform offers no way to read back whether it
/// applied. Sending it again could apply it twice, so the message is not retried: it is kept as a dead letter whose
/// reason tells the operator what to check in ActivePlatform.
/// </summary>
public class EffectOutcomeUnknownException(string message) : Exception(message);
