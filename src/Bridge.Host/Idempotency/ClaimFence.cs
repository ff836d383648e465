namespace Bridge.Host.Idempotency;

/// <summary>
/// A delivery's claim on a document, as a fence for what it writes before it acts: the write is recorded only while
/// <see cref="Owner"/> has held the claim all along, and in the same transaction the claim is renewed for
/// <see cref="Lease"/>, so no other delivery can take it before that write is committed.
/// </summary>
/// <param name="lost">Called once the claim is found lost, before <see cref="Lost"/> returns (a log line).</param>
public sealed class ClaimFence(string scope, string documentKey, string owner, TimeSpan lease, Action? lost = null)
{
    public string Scope { get; } = scope;

    public string DocumentKey { get; } = documentKey;

    public string Owner { get; } = owner;

    public TimeSpan Lease { get; } = lease;

    /// <summary>What a write fenced by a lost claim throws: the document is another delivery's now, so retry.</summary>
    public DocumentBusyException Lost()
    {
        lost?.Invoke();
        return new DocumentBusyException(Scope, DocumentKey);
    }
}
