using System.ComponentModel.DataAnnotations;

namespace Bridge.Host.Outbox;

public sealed class OutboxOptions
{
    public const string Section = "Bridge:Outbox";

    /// <summary>How often the dispatcher looks for undispatched events when nothing woke it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    [Range(1, 1000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>How long a claimed row stays reserved for this instance; a crashed instance's claims expire after it.</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Dispatched events are deleted after this long.</summary>
    public TimeSpan RetainDispatchedFor { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long a message that failed to publish waits before it is tried again; doubled after each further failure, up to
    /// <see cref="RetryMaxDelay"/>. The wait is measured by the database's clock.
    /// </summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts to publish one message.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Failed publishes after which a message is parked: it stays in the outbox, is logged as an error and counted
    /// (metric <c>bridge.outbox.messages{state=parked}</c>, the <c>outbox</c> health check), and is not tried again until
    /// an operator requeues it. With the defaults a message is retried for about 70 minutes before it is parked.
    /// </summary>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 20;

    /// <summary>The wait after a message's <paramref name="failedAttempts"/>-th failure (1 for the first): exponential, capped.</summary>
    public TimeSpan RetryDelay(int failedAttempts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempts, 1);
        var doublings = Math.Min(failedAttempts - 1, 30);
        var delay = RetryBaseDelay * Math.Pow(2, doublings);
        return delay < RetryMaxDelay ? delay : RetryMaxDelay;
    }
}
