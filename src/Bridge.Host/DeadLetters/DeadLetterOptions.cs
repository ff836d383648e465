namespace Bridge.Host.DeadLetters;

public sealed class DeadLetterOptions
{
    public const string Section = "Bridge:DeadLetters";

    /// <summary>Dead letters are purged this long after their last failure, whatever their status.</summary>
    public TimeSpan RetainFor { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Whether operators may change a dead letter's body and send it as a new message. Off unless configured on.</summary>
    public bool AllowEditAndReplay { get; set; }

    /// <summary>How long one replay holds a dead letter; a replay that dies mid-way frees it after this.</summary>
    public TimeSpan ReplayClaimLease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a replay job's instance holds the job without writing its progress (it writes after every dead letter, and
    /// every third of this while pacing); a job whose instance died is reported Interrupted after this.
    /// </summary>
    public TimeSpan ReplayJobLease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Batch size of a bulk replay when the request names none.</summary>
    public int DefaultReplayBatchSize { get; set; } = 50;

    /// <summary>Messages per second of a bulk replay when the request names none; a request cannot exceed <see cref="MaxReplayRatePerSecond"/>.</summary>
    public double DefaultReplayRatePerSecond { get; set; } = 20;

    public double MaxReplayRatePerSecond { get; set; } = 500;

    /// <summary>The most dead letters one bulk replay takes on (the rest wait for the next one).</summary>
    public int MaxReplayJobSize { get; set; } = 10_000;

    /// <summary>How often the <c>_error</c> queues (where a failed message goes when the database could not store it) are drained into the store.</summary>
    public TimeSpan ErrorQueueSweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The most messages one sweep of the <c>_error</c> queues imports; the rest wait for the next sweep.</summary>
    public int ErrorQueueSweepBatchSize { get; set; } = 500;
}
