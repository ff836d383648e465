namespace Bridge.Host.Idempotency;

public sealed class IdempotencyOptions
{
    public const string Section = "Bridge:Idempotency";

    /// <summary>
    /// How long one instance holds a document while it works on it. Must outlast the longest ActivePlatform call plus
    /// async-task polling; a crashed instance's claim is taken over after it.
    /// </summary>
    public TimeSpan DocumentClaimLease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Idempotency records are kept this long after completion. Longer than dead letters are kept, so a replay of an old
    /// message can never apply twice.
    /// </summary>
    public TimeSpan RetainRecordsFor { get; set; } = TimeSpan.FromDays(30);
}
