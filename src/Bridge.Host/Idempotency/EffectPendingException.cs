namespace Bridge.Host.Idempotency;

/// <summary>
/// A call sent by an earlier attempt may still be taking effect (its answer, e.g. an async task id, was lost): the
/// message waits like a busy document instead of sending the call again.
/// </summary>
public sealed class EffectPendingException(string message) : Exception(message);
