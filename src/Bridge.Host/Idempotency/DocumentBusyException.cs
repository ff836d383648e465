namespace Bridge.Host.Idempotency;

/// <summary>Another delivery (here or on another instance) is working on the same document; retry shortly.</summary>
public sealed class DocumentBusyException(string scope, string documentKey)
    : Exception($"Document '{documentKey}' in '{scope}' is being processed by another delivery; it will be retried.")
{
    public string Scope { get; } = scope;

    public string DocumentKey { get; } = documentKey;
}
