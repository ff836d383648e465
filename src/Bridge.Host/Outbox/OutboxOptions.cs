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
}
