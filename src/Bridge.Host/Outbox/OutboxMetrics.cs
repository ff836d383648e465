using System.Diagnostics.Metrics;
using Bridge.Host.Storage;

namespace Bridge.Host.Outbox;

/// <summary>
/// Outbox instruments on the <c>Bridge</c> meter: counters of failed publishes and of messages parked, a gauge of the
/// messages waiting in the outbox by state (pending, parked) and a gauge of the age of the oldest pending message.
/// </summary>
/// <remarks>
/// The gauges read one snapshot of the backlog (<see cref="IOutboxStore.GetBacklogAsync"/>: one query). It is refreshed when
/// a collection (a scrape, an export) observes the gauges and the snapshot is older than <see cref="RefreshAfter"/>: so
/// never more often than collections, and never at all while nothing collects (no exporter). The age is computed at
/// observation from the oldest pending message's creation time, so it keeps growing between refreshes while it waits.
/// </remarks>
public sealed class OutboxMetrics
{
    public const string MeterName = "Bridge";

    /// <summary>A snapshot younger than this is used as it is.</summary>
    public static readonly TimeSpan RefreshAfter = TimeSpan.FromSeconds(5);

    /// <summary>How long an observation waits for a refresh before it reports the previous snapshot.</summary>
    private static readonly TimeSpan RefreshWait = TimeSpan.FromSeconds(2);

    private readonly Counter<long> publishFailures;
    private readonly Counter<long> parked;
    private readonly IOutboxStore? outbox;
    private readonly TimeProvider clock;
    private readonly Lock gate = new();
    private Snapshot? snapshot;
    private Task? refreshing;

    public OutboxMetrics(IMeterFactory meterFactory, IOutboxStore? outbox = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        this.outbox = outbox;
        this.clock = clock ?? TimeProvider.System;
        Meter = meterFactory.Create(MeterName);
        publishFailures = Meter.CreateCounter<long>("bridge.outbox.publish_failures", "{message}", "Failed attempts to publish a result event from the outbox.");
        parked = Meter.CreateCounter<long>("bridge.outbox.parked", "{message}", "Result events parked after failing to publish too often; they stay in the outbox until requeued.");
        Meter.CreateObservableGauge(
            "bridge.outbox.messages",
            () => Observe() is { } current
                ? [new Measurement<long>(current.Backlog.Pending, new KeyValuePair<string, object?>("state", "pending")),
                   new Measurement<long>(current.Backlog.Parked, new KeyValuePair<string, object?>("state", "parked"))]
                : Array.Empty<Measurement<long>>(),
            "{message}",
            "Result events in the outbox not yet published, by state (pending, parked).");
        Meter.CreateObservableGauge(
            "bridge.outbox.oldest_pending_age",
            () => Observe() is { } current
                ? [new Measurement<double>(current.Backlog.OldestPendingAt is { } oldest ? Math.Max(0, (this.clock.GetUtcNow() - oldest).TotalSeconds) : 0)]
                : Array.Empty<Measurement<double>>(),
            "s",
            "Age of the oldest result event waiting to be published (not parked); 0 when none waits. A growing age means the dispatcher is stuck or the broker refuses.");
    }

    public Meter Meter { get; }

    public void PublishFailed(string messageType) =>
        publishFailures.Add(1, new KeyValuePair<string, object?>("message_type", messageType));

    public void Parked(string messageType) =>
        parked.Add(1, new KeyValuePair<string, object?>("message_type", messageType));

    public void SetBacklog(OutboxBacklog backlog) => snapshot = new Snapshot(backlog, clock.GetUtcNow());

    /// <summary>The snapshot to report, refreshed first when it is stale and the store is known.</summary>
    private Snapshot? Observe()
    {
        if (outbox is null)
        {
            return snapshot;
        }

        Task? refresh;
        lock (gate)
        {
            if (snapshot is { } current && clock.GetUtcNow() - current.TakenAt < RefreshAfter)
            {
                return current;
            }

            if (refreshing is null || refreshing.IsCompleted)
            {
                refreshing = RefreshAsync(outbox);
            }

            refresh = refreshing;
        }

        try
        {
            refresh.Wait(RefreshWait);
        }
        catch (AggregateException)
        {
            // Reported below as the previous snapshot; RefreshAsync already swallowed the failure.
        }

        return snapshot;
    }

    private async Task RefreshAsync(IOutboxStore store)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            SetBacklog(await store.GetBacklogAsync(timeout.Token).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The database is unreachable: the gauges report the last snapshot (health checks report the database).
        }
    }

    private sealed record Snapshot(OutboxBacklog Backlog, DateTimeOffset TakenAt);
}
