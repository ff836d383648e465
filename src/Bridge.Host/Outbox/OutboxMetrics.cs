using System.Diagnostics.Metrics;

namespace Bridge.Host.Outbox;

/// <summary>
/// Outbox instruments on the <c>Bridge</c> meter: counters of failed publishes and of messages parked, and a gauge of the
/// messages waiting in the outbox by state (pending, parked), refreshed by the <see cref="OutboxDispatcher"/>.
/// </summary>
public sealed class OutboxMetrics
{
    public const string MeterName = "Bridge";

    private readonly Counter<long> publishFailures;
    private readonly Counter<long> parked;
    private (long Pending, long Parked)? counts;

    public OutboxMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        publishFailures = Meter.CreateCounter<long>("bridge.outbox.publish_failures", "{message}", "Failed attempts to publish a result event from the outbox.");
        parked = Meter.CreateCounter<long>("bridge.outbox.parked", "{message}", "Result events parked after failing to publish too often; they stay in the outbox until requeued.");
        Meter.CreateObservableGauge(
            "bridge.outbox.messages",
            () => counts is { } current
                ? [new Measurement<long>(current.Pending, new KeyValuePair<string, object?>("state", "pending")),
                   new Measurement<long>(current.Parked, new KeyValuePair<string, object?>("state", "parked"))]
                : Array.Empty<Measurement<long>>(),
            "{message}",
            "Result events in the outbox not yet published, by state (pending, parked).");
    }

    public Meter Meter { get; }

    public void PublishFailed(string messageType) =>
        publishFailures.Add(1, new KeyValuePair<string, object?>("message_type", messageType));

    public void Parked(string messageType) =>
        parked.Add(1, new KeyValuePair<string, object?>("message_type", messageType));

    public void SetCounts(long pending, long parkedNow) => counts = (pending, parkedNow);
}
