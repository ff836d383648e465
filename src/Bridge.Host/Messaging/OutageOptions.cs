namespace Bridge.Host.Messaging;

/// <summary>
/// What Bridge does when ActivePlatform is down (ADR 0007): a message whose in-process retries run out on an ActivePlatform
/// failure is not dead-lettered when a probe confirms the outage: deliveries are held unhandled (the rest wait on their
/// queues) until a probe gets an answer again.
/// </summary>
public sealed class OutageOptions
{
    public const string Section = "Bridge:Outage";

    /// <summary>Pause consumption during an ActivePlatform outage; <c>false</c> dead-letters as retries run out (the old behaviour).</summary>
    public bool PauseConsumption { get; set; } = true;

    /// <summary>How often a paused Bridge asks ActivePlatform whether it is back.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long one probe waits for an answer; no answer in time counts as down.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one delivery is held while paused before it goes back to its queue (and comes straight back to be held
    /// again): under RabbitMQ's consumer timeout (30 minutes by default), which closes a channel holding a delivery longer.
    /// </summary>
    public TimeSpan HoldLimit { get; set; } = TimeSpan.FromMinutes(10);
}
