namespace Bridge.Host.Idempotency;

public sealed class IdempotencyOptions
{
    public const string Section = "Bridge:Idempotency";

    /// <summary>
    /// How long a claim on a document lasts without renewal. The working delivery renews it every third of the lease, so
    /// it bounds only how long a crashed instance's claim blocks the document: a killed instance's in-flight messages are
    /// resumed by another delivery within about one lease. Leases are judged by the database's clock.
    /// </summary>
    public TimeSpan DocumentClaimLease { get; set; } = TimeSpan.FromSeconds(12);

    /// <summary>
    /// Idempotency records are kept this long after completion. Longer than dead letters are kept, so a replay of an old
    /// message can never apply twice.
    /// </summary>
    public TimeSpan RetainRecordsFor { get; set; } = TimeSpan.FromDays(30);
}
